//go:build unix

package ingest

import (
	"path/filepath"
	"syscall"
	"testing"
)

func TestScanFifo(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.txt", "a\n")
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	res := scan(t, root, ScanOptions{})
	wantPaths(t, res, "a.txt")
	if got := skippedMap(res)["pipe"]; got != ReasonNotFile {
		t.Errorf("pipe: reason %q", got)
	}
}
