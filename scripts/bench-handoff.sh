#!/usr/bin/env bash
# Tokens a hand-off sends to the larger tier, as a share of the pack: for
# the last N non-merge commits of REPO that change 1 to 8 files still in the
# tree, a plan naming those files (with the commit's subject as the goal) is
# given to `lore generate --dry-run --json`, which builds the exact request
# and sends nothing. The larger tier should get the plan's files and the
# repository map, not the repository.
# Usage: scripts/bench-handoff.sh REPO [N]   (lore on PATH)
set -euo pipefail
repo=$(cd "$1" && pwd) n=${2:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A larger tier on loopback that is never contacted: a dry run needs no key.
mkdir -p "$work/xdg/lore"
printf '[tier.large]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "bench"\n' >"$work/xdg/lore/config.toml"
export XDG_CONFIG_HOME=$work/xdg LORE_STATE_DIR=$work/state
count=0
for c in $(git -C "$repo" rev-list --no-merges -n 200 HEAD); do
  [ "$count" -ge "$n" ] && break
  mapfile -t files < <(git -C "$repo" diff-tree --no-commit-id --name-only -r "$c")
  [ "${#files[@]}" -ge 1 ] && [ "${#files[@]}" -le 8 ] || continue
  plan=$work/plan.md
  { echo "# Plan"; echo; echo "Goal: $(git -C "$repo" log -1 --format=%s "$c")"; echo; echo "## Files"
    for f in "${files[@]}"; do [ -f "$repo/$f" ] && echo "- \`$f\` (change)"; done; } >"$plan"
  grep -q '^- `' "$plan" || continue
  lore generate --repo "$repo" --plan-file "$plan" --dry-run --json 2>/dev/null >"$work/out.json" || continue
  python3 - "$work/out.json" "$c" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("%s  files %d sent (%d withheld)  sent %7d tokens  pack %8d tokens  share %.4f" % (
    sys.argv[2][:10], len(r["files_sent"]), len(r["files_withheld"]), r["sent_tokens"], r["pack_tokens"], r["sent_share"]))
PY
  count=$((count + 1))
done | tee "$work/rows.txt"
python3 - "$work/rows.txt" <<'PY'
import statistics, sys
shares = [float(l.split("share")[1]) for l in open(sys.argv[1]) if "share" in l]
sent = [int(l.split("sent")[2].split()[0]) for l in open(sys.argv[1]) if "share" in l]
if shares:
    print("hand-offs %d  median share %.4f  mean %.4f  max %.4f  median sent %d tokens" % (
        len(shares), statistics.median(shares), statistics.mean(shares), max(shares), statistics.median(sent)))
PY
