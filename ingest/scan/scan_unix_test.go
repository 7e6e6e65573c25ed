//go:build unix

package scan

import (
	"path/filepath"
	"syscall"
	"testing"

	"lore/ingest/internal/ingesttest"
)

func TestScanFifo(t *testing.T) {
	root := t.TempDir()
	ingesttest.Write(t, root, "a.txt", "a\n")
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	res := scan(t, root, Options{})
	wantPaths(t, res, "a.txt")
	if got := skippedMap(res)["pipe"]; got != ReasonNotFile {
		t.Errorf("pipe: reason %q", got)
	}
}
