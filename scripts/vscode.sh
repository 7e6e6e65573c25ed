#!/usr/bin/env bash
# Builds, tests and packages the VS Code extension in editors/vscode.
#
#   scripts/vscode.sh test      npm ci (when node_modules is missing or stale),
#                               strict TypeScript compile, unit tests
#   scripts/vscode.sh package   the same, then editors/vscode/lore-<version>.vsix
#
# Needs Node.js 18 or newer and npm (`make deps` installs npm on Debian). Every
# dependency is pinned in package.json and package-lock.json; after `npm ci`
# nothing goes to the network (packaging included).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXT="$ROOT/editors/vscode"

die() {
  echo "vscode: $*" >&2
  exit 1
}

usage() {
  echo "usage: scripts/vscode.sh test|package" >&2
  exit 2
}

[[ $# -eq 1 ]] || usage
cmd="$1"
case "$cmd" in
test | package) ;;
-h | --help | help)
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
  ;;
*) usage ;;
esac

command -v node >/dev/null 2>&1 || die "node not found: install Node.js 18 or newer (Debian: apt-get install -y nodejs npm, or run make deps)"
command -v npm >/dev/null 2>&1 || die "npm not found: run make deps (or apt-get install -y npm)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 18)) || die "Node.js $(node -v) is too old: the extension's tools need Node.js 18 or newer"
[[ -f "$EXT/package.json" && -f "$EXT/package-lock.json" ]] || die "$EXT/package.json or package-lock.json is missing"

cd "$EXT"

# npm ci when node_modules is missing or older than the lock file. The stamp
# holds the lock file's checksum; --ignore-scripts: no dependency needs an
# install script (and one, vsce's signing helper, would download a binary).
if command -v sha256sum >/dev/null 2>&1; then
  lock_sum="$(sha256sum <package-lock.json | cut -d' ' -f1)"
else
  lock_sum="$(shasum -a 256 <package-lock.json | cut -d' ' -f1)"
fi
stamp="node_modules/.lore-lock-sha256"
if [[ ! -d node_modules || ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
  echo "vscode: npm ci (editors/vscode)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error ||
    die "npm ci failed (is the npm registry reachable? is package-lock.json in sync with package.json?)"
  echo "$lock_sum" >"$stamp"
fi

echo "vscode: tsc (strict)"
rm -rf out
node_modules/.bin/tsc -p ./ || die "TypeScript compile failed"

echo "vscode: unit tests"
shopt -s nullglob
tests=(out/test/*.test.js)
((${#tests[@]})) || die "no compiled tests in editors/vscode/out/test"
node --test --test-reporter=spec "${tests[@]}" || die "unit tests failed"

if [[ "$cmd" == package ]]; then
  version="$(node -p 'require("./package.json").version')"
  vsix="lore-$version.vsix"
  echo "vscode: vsce package → editors/vscode/$vsix"
  rm -f "$vsix"
  # The repository's licence goes into the package (vsce looks for LICENSE
  # in the extension's folder; the copy is removed afterwards and ignored by
  # git). Production dependencies are copied from node_modules.
  cp "$ROOT/LICENSE" LICENSE
  node_modules/.bin/vsce package --out "$vsix" </dev/null || { rm -f LICENSE; die "vsce package failed"; }
  rm -f LICENSE
  [[ -s "$vsix" ]] || die "vsce reported success but $vsix is missing"
  # The packaged entry point must load with only what is inside the .vsix.
  unpacked="$(mktemp -d)"
  trap 'rm -rf "$unpacked"' EXIT
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$vsix" -d "$unpacked"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -m zipfile -e "$vsix" "$unpacked"
  else
    die "unzip or python3 is needed to check the package"
  fi
  node test/load-packaged.js "$unpacked/extension/out/src/extension.js" || die "the packaged extension does not load"
  echo "vscode: built editors/vscode/$vsix ($(du -h "$vsix" | cut -f1)); install it with: code --install-extension editors/vscode/$vsix"
fi
