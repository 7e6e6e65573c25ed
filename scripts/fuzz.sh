#!/usr/bin/env bash
# Runs each fuzz target (PKG:NAME) for FUZZTIME on new inputs.
#
# Go 1.26's fuzzing coordinator can end a run that found nothing with
# "context deadline exceeded" when -fuzztime runs out while a worker is
# mid-input (golang/go#75804, fixed in Go 1.27). Such a run writes no
# failing input; a real failure always does (under the package's
# testdata/fuzz/NAME/). So a failed run fails this script only when it
# wrote a new input there, or failed any other way; the race alone is
# reported and passed over.
set -uo pipefail

GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-10s}"

for t in "$@"; do
  pkg="${t%%:*}"
  name="${t#*:}"
  echo "== fuzz $name ($pkg, $FUZZTIME)"
  corpus="$pkg/testdata/fuzz/$name"
  before="$(ls "$corpus" 2>/dev/null | sort)"
  out="$(mktemp)"
  "$GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "./$pkg/" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  after="$(ls "$corpus" 2>/dev/null | sort)"
  if ((rc != 0)); then
    if [[ "$before" == "$after" ]] && grep -q '^    context deadline exceeded$' "$out" &&
      ! grep -q -e 'panic:' -e 'Failing input written' "$out"; then
      echo "fuzz: $name: Go's end-of-fuzztime race (golang/go#75804), no failing input written: passed over"
    else
      rm -f "$out"
      echo "fuzz: $name failed (a failing input, if any, is in $corpus)" >&2
      exit 1
    fi
  fi
  rm -f "$out"
done
