#!/usr/bin/env bash
# make demo: a short tour of lore on this repository, with a generated model.
# Everything it keeps (model, daemon state, sockets) is in .lore-demo/; the
# settings that say so are in .lore-demo/env, set here and not shown.
set -euo pipefail

DEMO="${1:?usage: scripts/demo.sh DEMO_DIR BIN_DIR}"
BIN="${2:?usage: scripts/demo.sh DEMO_DIR BIN_DIR}"
# shellcheck source=/dev/null
. "$DEMO/env"
PATH="$BIN:$PATH"

bold=""; dim=""; off=""
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then bold=$'\e[1m'; dim=$'\e[2m'; off=$'\e[0m'; fi
say() { printf '\n%s%s%s\n' "$bold" "$*" "$off"; }
note() { printf '%s%s%s\n' "$dim" "$*" "$off"; }
run() {
  local shown=() a
  for a in "$@"; do
    if [[ "$a" == *" "* ]]; then shown+=("\"$a\""); else shown+=("$a"); fi
  done
  printf '%s$ %s%s\n' "$bold" "${shown[*]}" "$off"
  "$@"
}

lore stop --all >/dev/null 2>&1 || true

cat <<'TEXT'
lore keeps a whole repository in a local model's context, so that questions
about it are answered in about the time an answer takes to write.

This tour uses a small model generated on the spot (lore model synth). Its
weights are random: its answers are gibberish. What the tour shows is the
machinery around a real model: the first prefill, answers from the KV cache,
a restart that restores the cache from disk instead of recomputing it.
TEXT

say "1. What is installed"
run lore version

say "2. The first question starts a daemon, which reads the repository into the model's context"
note "(a real model answers here; this one writes random words)"
run lore ask --stats --max-tokens 40 --temperature 0.8 --seed 7 "Where does lore build the pack of a repository?"

say "3. What the daemon holds"
run lore status

say "4. The next question starts from the cached context: only the question, and the files retrieved for it, are computed"
run lore ask --stats --max-tokens 16 --temperature 0.8 --seed 7 "What does the ask command do?"

say "5. A restart restores the KV cache from the snapshot saved on the way out"
run lore stop
run lore ask --stats --max-tokens 16 --temperature 0.8 --seed 7 "What does lore status show?"

say "6. The daemons running, and stopping them"
run lore ps
run lore stop --all

cat <<'TEXT'

Next steps
  A real model   lore model ls --recommended, then lore model pull qwen3-coder-30b
                 (or hf:ORG/REPO/FILE.gguf, or a URL; see "Real models" in README.md),
                 then ask in any git repository: lore ask "how does X work?"
  Editors        VS Code, Neovim and Emacs packages: editors/ and README.md
  Git hooks      lore hook install (commit-message drafts, commit summaries)
  Hand-off       ask --plan "goal", then lore generate (a larger model writes the
                 code; see docs/handoff.md)
  Help           lore --help, lore <command> --help; docs/ for the design
TEXT
