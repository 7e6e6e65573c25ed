#!/usr/bin/env bash
# Time to first token of questions that retrieve files, with the retrieval
# allowance sized by this machine (retrieval_latency, default 2s) against
# the whole room (retrieval_latency = "0"), on a private clone of REPO.
# The prefix is prefilled once (its snapshot saved); each setting then
# starts a daemon that restores it, asks one question to measure the
# question prefill speed, and times the questions after it.
# Usage: scripts/bench-retrieval.sh MODEL REPO [CTX]   (lore and ask on PATH)
set -euo pipefail
model=$1 repo=$2 ctx=${3:-32768}
work=$(mktemp -d)
trap 'lore stop --repo "$work/repo" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git clone -q --local "$repo" "$work/repo"
export LORE_MODEL=$model LORE_CTX=$ctx LORE_STATE_DIR=$work/state LORE_RUNTIME_DIR=$work/run
mkdir -m 700 "$work/run"
questions=(
  "Where are blueprint URL prefixes and subdomains registered?"
  "How does the test client handle cookies and sessions?"
  "Fix the JSON provider so that dataclasses and decimals are serialized"
  "Where is the CLI's FLASK_APP discovery done and how are errors reported?"
)
stats() {
  python3 -c '
import json, sys
r = json.loads(sys.stdin.read().strip().splitlines()[-1])
print("  ttft %6.0f ms  retrieved %5d tokens of %5d allowed  prefilled after the prefix %5d  in full %d  excerpts %d" % (
    r["ttft_ms"], r.get("retrieved_tokens", 0), r.get("retrieval_allowance", 0),
    r["prompt_tokens"] - r["cached_tokens"], len(r.get("retrieved_full") or []),
    len(r.get("retrieved") or []) - len(r.get("retrieved_full") or [])))'
}
status() {
  lore status --repo "$work/repo" --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print("  status: allowance %d tokens, prefix prefill %.0f tokens/s, question prefill %.0f tokens/s" % (s["retrieval_allowance"], s["prefill_tokens_per_sec"], s["question_prefill_tokens_per_sec"]))'
}
start=$(date +%s)
lore daemon --repo "$work/repo" --detach >/dev/null
ask --repo "$work/repo" --max-tokens 1 "hello" >/dev/null 2>&1
echo "prefix prefilled in $(( $(date +%s) - start )) s"
status
lore stop --repo "$work/repo" >/dev/null
for latency in 0 2s; do
  mkdir -p "$work/cfg-$latency/lore"
  echo "retrieval_latency = \"$latency\"" >"$work/cfg-$latency/lore/config.toml"
  export XDG_CONFIG_HOME=$work/cfg-$latency
  lore daemon --repo "$work/repo" --detach >/dev/null
  echo "retrieval_latency = \"$latency\", context $ctx:"
  ask --repo "$work/repo" --json --max-tokens 1 "How are the application's config values loaded from files and the environment?" 2>/dev/null | stats
  status
  for q in "${questions[@]}"; do
    ask --repo "$work/repo" --json --max-tokens 1 "$q" 2>/dev/null | stats
  done
  lore stop --repo "$work/repo" >/dev/null
done
