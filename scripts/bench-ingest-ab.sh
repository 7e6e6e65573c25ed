#!/usr/bin/env bash
# A/B ingest benchmark: `lore bench ingest` (lore pack, cold and warm) built
# at a base revision and at the work tree, alternating on the same tree in
# one run, so that the ratio holds on a noisy machine.
# Usage: scripts/bench-ingest-ab.sh BASE_REV [DIR] [ROUNDS]   (needs jq)
set -euo pipefail
BASE="$1"
DIR="${2:-$(go env GOROOT)/src}"
ROUNDS="${3:-3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/base"
git archive "$BASE" | tar -x -C "$tmp/base"
(cd "$tmp/base" && go build -o "$tmp/lore-base" ./cmd/lore)
go build -o "$tmp/lore-head" ./cmd/lore
for _ in $(seq "$ROUNDS"); do
  for v in base head; do
    "$tmp/lore-$v" bench ingest --dir "$DIR" --json 2>/dev/null |
      jq -c --arg v "$v" '.runs[] | select(.tool == "lore") | {build: $v, mode, seconds, peak_rss_mb}'
  done
done | tee "$tmp/runs.jsonl"
jq -s -r 'def med: sort | .[length/2|floor];
  group_by(.mode)[] | (map(select(.build=="base").seconds)|med) as $b | (map(select(.build=="head").seconds)|med) as $h |
  "\(.[0].mode): base \($b|.*100|round/100) s, head \($h|.*100|round/100) s, head/base \((($h/$b)*1000|round)/1000)"' "$tmp/runs.jsonl"
