package main

import (
	"bytes"
	"os"
	"testing"
)

// TestWireUpToDate fails when editors/vscode/src/lib/wire.ts is not what the
// Go types give: run `make generate` (go generate ./internal/tsgen).
func TestWireUpToDate(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	const path = "../../editors/vscode/src/lib/wire.ts"
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `make generate` (go generate ./internal/tsgen) and commit it", path)
	}
}
