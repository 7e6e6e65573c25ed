#!/usr/bin/env bash
# Ingest benchmark: lore pack vs repomix (plain and --compress) on the same
# tree in one run. Installs the pinned repomix into an ignored folder.
set -euo pipefail
DIR="${1:-$(go env GOROOT)/src}"
REPOMIX_VERSION=1.18.1
TOOLS=third_party/npm
if [[ ! -x "$TOOLS/node_modules/.bin/repomix" ]]; then
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && npm install --silent --no-audit --no-fund "repomix@$REPOMIX_VERSION" >/dev/null)
fi
exec bin/lore bench ingest --repo "$DIR" --repomix "$TOOLS/node_modules/.bin/repomix" "${@:2}"
