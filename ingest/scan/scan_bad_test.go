package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lore/ingest/internal/ingesttest"
)

// A 100 MB file is skipped as too large without being read into memory.
func TestScanHugeFile(t *testing.T) {
	root := t.TempDir()
	ingesttest.Write(t, root, "small.go", "package p\n")
	f, err := os.Create(filepath.Join(root, "huge.log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	res := scan(t, root, Options{})
	wantPaths(t, res, "small.go")
	if got := skippedMap(res)["huge.log"]; !strings.HasPrefix(got, "too large (104857600 bytes") {
		t.Errorf("huge.log reason = %q", got)
	}
}

// Files rewritten while the scan reads them: the scan neither fails nor
// returns a hash that does not match the content it returns.
func TestScanFilesChangingDuringScan(t *testing.T) {
	root := t.TempDir()
	for i := 0; i < 50; i++ {
		ingesttest.Write(t, root, fmt.Sprintf("f%02d.go", i), "package p\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ctx.Err() == nil; n++ {
			p := filepath.Join(root, fmt.Sprintf("f%02d.go", n%50))
			if n%7 == 0 {
				os.Remove(p)
			}
			os.WriteFile(p, []byte(fmt.Sprintf("package p\n\nvar V = %d\n%s", n, strings.Repeat("// x\n", n%100))), 0o644)
		}
	}()
	for i := 0; i < 20; i++ {
		res, err := Scan(context.Background(), root, Options{})
		if err != nil {
			cancel()
			wg.Wait()
			t.Fatalf("scan %d: %v", i, err)
		}
		for _, f := range res.Files {
			sum := sha256.Sum256(f.Content)
			if f.Hash != hex.EncodeToString(sum[:]) || f.Size != int64(len(f.Content)) {
				t.Errorf("%s: hash or size does not match its content", f.Path)
			}
		}
		for _, s := range res.Skipped {
			if s.Reason != ReasonVanished {
				t.Errorf("%s skipped: %s", s.Path, s.Reason)
			}
		}
	}
	cancel()
	wg.Wait()
}

// Permission denied cannot be produced as root, so as root the test runs
// itself again as the unprivileged user nobody.
func TestScanUnreadableAsNobody(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: TestScanUnreadable covers this directly")
	}
	if os.Getenv("LORE_TEST_NOBODY") != "" {
		t.Fatal("still root after dropping privileges")
	}
	// The test binary sits in a private build folder: copy it where nobody
	// may run it.
	dir, err := os.MkdirTemp("", "lore-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "ingest.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestScanUnreadable$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LORE_TEST_NOBODY=1", "HOME=/tmp", "TMPDIR=/tmp")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestScanUnreadable") {
		t.Fatalf("TestScanUnreadable did not run as nobody:\n%s", out)
	}
}

// With the previous scan, unchanged files are not read again; changed ones are.
func TestScanPreviousSkipsUnchanged(t *testing.T) {
	root := t.TempDir()
	ingesttest.Write(t, root, "a.go", "package a\n")
	ingesttest.Write(t, root, "b.go", "package b\n")
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{"a.go", "b.go"} {
		os.Chtimes(filepath.Join(root, p), old, old)
	}
	first := scan(t, root, Options{})
	// Rewritten in place with the same size and times: by stat it is
	// unchanged, so the scan must return the previous content, unread.
	ingesttest.Write(t, root, "a.go", "package A\n")
	os.Chtimes(filepath.Join(root, "a.go"), old, old)
	ingesttest.Write(t, root, "b.go", "package b\n\nvar X = 1\n")
	second := scan(t, root, Options{Previous: first})
	wantPaths(t, second, "a.go", "b.go")
	if string(second.Files[0].Content) != "package a\n" || second.Files[0].Hash != first.Files[0].Hash {
		t.Errorf("a.go not taken from the previous scan")
	}
	if string(second.Files[1].Content) != "package b\n\nvar X = 1\n" {
		t.Errorf("b.go changed but was not read again: %q", second.Files[1].Content)
	}
	// A file written just before the previous scan may have changed unseen.
	ingesttest.Write(t, root, "c.go", "package c\n")
	third := scan(t, root, Options{Previous: second})
	ingesttest.Write(t, root, "c.go", "package d\n") // same size, likely the same mtime tick
	fourth := scan(t, root, Options{Previous: third})
	for _, f := range fourth.Files {
		if f.Path == "c.go" && string(f.Content) != "package d\n" {
			t.Errorf("a racily clean file was taken from the previous scan: %q", f.Content)
		}
	}
}
