#!/usr/bin/env bash
# Editor responsiveness: how long lore's answer commands keep Emacs (eglot,
# lore.el) and Neovim (the lore plugin) from their command loop, while the
# daemon starts and prefills (cold) and while it answers other questions
# (busy). Real `lore lsp`, real daemon on the generated tiny model, a copy
# of this repository at HEAD as the repository asked about (LORE_CTX tokens
# of it are prefilled: a prefill of several seconds on 2 cores).
#
#   scripts/bench-editors.sh            N=5 samples per path and phase
#   N=20 LORE_CTX=65536 scripts/bench-editors.sh
#
# Needs emacs (with eglot) and nvim (`make deps` installs both on Debian) and
# the llama.cpp libraries (third_party/llama). Prints one row per editor,
# path and phase: samples, median and max milliseconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
N="${N:-5}"
export LORE_CTX="${LORE_CTX:-32768}"
export LORE_LLAMA_LIB="${LORE_LLAMA_LIB:-$ROOT/third_party/llama}"
command -v emacs >/dev/null || { echo "bench-editors: emacs not found (make deps)" >&2; exit 1; }
command -v nvim >/dev/null || { echo "bench-editors: nvim not found (make deps)" >&2; exit 1; }

work="$(mktemp -d)"
repo="$work/repo"
cleanup() {
  [[ -x "$work/bin/lore" ]] && (cd "$repo" 2>/dev/null && "$work/bin/lore" stop >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/bin/" ./cmd/lore
"$work/bin/lore" model synth --size tiny -o "$work/tiny.gguf" >/dev/null
export LORE_MODEL="$work/tiny.gguf" LORE_STATE_DIR="$work/state" LORE_RUNTIME_DIR="$work/run"
mkdir -p "$repo" "$work/run" "$work/home"
chmod 700 "$work/run"
git archive HEAD | tar -x -C "$repo"
rm -f "$repo/third_party"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -qm "bench repository"
file="$repo/lsp/server.go"
results="$work/results"
: >"$results"
export PATH="$work/bin:$PATH" LORE_BENCH_N="$N" LORE_BENCH_FILE="$file" LORE_BENCH_OUT="$results"

echo "bench-editors: Emacs $(emacs --version | head -1 | awk '{print $3}')" >&2
(cd "$repo" && HOME="$work/home" timeout 900 emacs --batch -L "$ROOT/editors/emacs" -l "$ROOT/editors/emacs/testdata/bench.el" >"$work/emacs.log" 2>&1) ||
  { cat "$work/emacs.log" >&2; exit 1; }
(cd "$repo" && lore stop >/dev/null 2>&1) || true
rm -rf "$LORE_STATE_DIR"

echo "bench-editors: $(nvim --version | head -1)" >&2
cat >"$work/init.lua" <<LUA
vim.opt.runtimepath:prepend('$ROOT/editors/nvim')
vim.o.swapfile = false
require('lore').setup({ cmd = { '$work/bin/lore', 'lsp' }, max_tokens = 16 })
LUA
(cd "$repo" && XDG_CONFIG_HOME="$work/home" XDG_DATA_HOME="$work/home" XDG_STATE_HOME="$work/home" XDG_CACHE_HOME="$work/home" \
  timeout 900 nvim --headless --clean -u "$work/init.lua" -c "luafile $ROOT/editors/nvim/testdata/bench.lua" "$file" >"$work/nvim.log" 2>&1) ||
  { cat "$work/nvim.log" >&2; exit 1; }

if grep -q " error " "$results"; then
  grep " error " "$results" >&2
  exit 1
fi
printf '%-6s %-11s %-5s %-42s %4s %10s %10s\n' editor path phase daemon n median_ms max_ms
sort -k1,1 -k2,2 -k3,3 -k5,5n "$results" | awk '
  function flush() { if (n) printf "%-6s %-11s %-5s %-42s %4d %10.2f %10.2f\n", e, p, ph, st, n, v[int((n+1)/2)], v[n] }
  { key = $1 " " $2 " " $3
    if (key != last) { flush(); n = 0; last = key; e = $1; p = $2; ph = $3; st = $4 }
    v[++n] = $5 }
  END { flush() }'
