package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"

	"lore/ingest"
	"lore/ingest/internal/ingesttest"
)

func TestScanGitSelection(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, "main.go", "package main\n\nfunc main() {}\n")
	ingesttest.Write(t, root, "README.md", "# demo\n")
	ingesttest.Write(t, root, "sub/b.go", "package sub\n")
	ingesttest.Write(t, root, "tracked.log", "tracked although ignored later\n")
	ingesttest.Write(t, root, "build/keep.txt", "tracked inside an ignored folder\n")
	ingesttest.Write(t, root, "gone.go", "package main\n")
	ingesttest.Commit(t, repo, "main.go", "README.md", "sub/b.go", "tracked.log", "build/keep.txt", "gone.go")
	if err := os.Remove(filepath.Join(root, "gone.go")); err != nil {
		t.Fatal(err)
	}

	ingesttest.Write(t, root, ".gitignore", "*.log\n/build/\n# comment\n\n")
	ingesttest.Write(t, root, "sub/.gitignore", "secret.txt\n!keep.log\n")
	ingesttest.Write(t, root, "sub/deep/.gitignore", "*.tmp\n")
	ingesttest.Write(t, root, ".git/info/exclude", "local-only.txt\n")

	ingesttest.Write(t, root, "new.txt", "untracked, not ignored\n")
	ingesttest.Write(t, root, "debug.log", "ignored by root .gitignore\n")
	ingesttest.Write(t, root, "build/out.bin.txt", "ignored folder\n")
	ingesttest.Write(t, root, "sub/secret.txt", "ignored by nested .gitignore\n")
	ingesttest.Write(t, root, "secret.txt", "nested rule does not apply at the root\n")
	ingesttest.Write(t, root, "sub/keep.log", "re-included by nested negation\n")
	ingesttest.Write(t, root, "sub/deep/x.tmp", "ignored by deeper .gitignore\n")
	ingesttest.Write(t, root, "sub/deep/y.txt", "kept\n")
	ingesttest.Write(t, root, "local-only.txt", "ignored by info/exclude\n")
	ingesttest.Write(t, root, "sub/local-only.txt", "info/exclude pattern has no slash: matches at any depth\n")

	res := scan(t, root, Options{})
	if !res.Git {
		t.Error("Git = false for a git work tree")
	}
	wantPaths(t, res,
		".gitignore",
		"README.md",
		"build/keep.txt",
		"main.go",
		"new.txt",
		"secret.txt",
		"sub/.gitignore",
		"sub/b.go",
		"sub/deep/.gitignore",
		"sub/deep/y.txt",
		"sub/keep.log",
		"tracked.log",
	)
	if len(res.Skipped) != 0 {
		t.Errorf("unexpected skipped: %v", res.Skipped)
	}
	for _, f := range res.Files {
		if strings.HasPrefix(f.Path, ".git/") {
			t.Errorf("scanned inside .git: %s", f.Path)
		}
	}
	if f := fileByPath(res, "main.go"); f == nil || !f.Tracked || f.Lang != "go" || len(f.Symbols) != 1 {
		t.Errorf("main.go = %+v", f)
	}
	if f := fileByPath(res, "new.txt"); f == nil || f.Tracked {
		t.Errorf("new.txt = %+v", f)
	}
	readme := sha256.Sum256([]byte("# demo\n"))
	if f := fileByPath(res, "README.md"); f == nil || f.Lang != "markdown" || f.Size != 7 ||
		f.Hash != hex.EncodeToString(readme[:]) || string(f.Content) != "# demo\n" {
		t.Errorf("README.md = %+v", f)
	}
}

func TestScanGlobalExcludes(t *testing.T) {
	home := ingesttest.IsolateGitConfig(t)
	ingesttest.Write(t, home, ".config/git/ignore", "*.swp\n")
	root, _ := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, "a.txt", "a\n")
	ingesttest.Write(t, root, "a.txt.swp", "editor swap\n")
	res := scan(t, root, Options{})
	wantPaths(t, res, "a.txt")

	// Outside git only .gitignore files count.
	plain := t.TempDir()
	ingesttest.Write(t, plain, "a.txt", "a\n")
	ingesttest.Write(t, plain, "a.txt.swp", "swap\n")
	wantPaths(t, scan(t, plain, Options{}), "a.txt", "a.txt.swp")
}

func TestScanSkips(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	ingesttest.Write(t, outside, "secret.txt", "outside the repository\n")

	ingesttest.Write(t, root, "ok.txt", "hello\n")
	ingesttest.Write(t, root, "nul.bin", "abc\x00def\n")
	ingesttest.Write(t, root, "latin1.txt", strings.Repeat("\xe9\xe8\xff", 50))
	// One stray invalid byte in a long text is well under 1%: kept.
	ingesttest.Write(t, root, "mostly.txt", strings.Repeat("plain text line\n", 100)+"caf\xe9\n")
	// Invalid UTF-8 beyond the first 8 KiB is not looked at.
	ingesttest.Write(t, root, "late.txt", strings.Repeat("x", 9000)+strings.Repeat("\xff", 500))
	// A multi-byte character cut by the 8 KiB window is not invalid.
	ingesttest.Write(t, root, "cut.txt", strings.Repeat("é", 5000))
	ingesttest.Write(t, root, "big.txt", strings.Repeat("y", 200))
	ingesttest.Write(t, root, "exact.txt", strings.Repeat("z", 100))
	ingesttest.Write(t, root, "empty.txt", "")
	ingesttest.Write(t, root, "dir/inner.txt", "in\n")
	ingesttest.Symlink(t, "ok.txt", filepath.Join(root, "link.txt"))
	ingesttest.Symlink(t, "loop-b", filepath.Join(root, "loop-a"))
	ingesttest.Symlink(t, "loop-a", filepath.Join(root, "loop-b"))
	ingesttest.Symlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(root, "out.txt"))
	ingesttest.Symlink(t, outside, filepath.Join(root, "outdir"))
	ingesttest.Symlink(t, "dir", filepath.Join(root, "dirlink"))
	ingesttest.Symlink(t, "missing", filepath.Join(root, "dangling"))

	res := scan(t, root, Options{})
	if res.Git {
		t.Error("Git = true for a plain folder")
	}
	wantPaths(t, res, "big.txt", "cut.txt", "dir/inner.txt", "empty.txt", "exact.txt", "late.txt", "mostly.txt", "ok.txt")
	want := map[string]string{
		"nul.bin":    ReasonBinary,
		"latin1.txt": ReasonBinary,
		"link.txt":   ReasonSymlink,
		"loop-a":     ReasonSymlink,
		"loop-b":     ReasonSymlink,
		"out.txt":    ReasonSymlink,
		"outdir":     ReasonSymlink,
		"dirlink":    ReasonSymlink,
		"dangling":   ReasonSymlink,
	}
	got := skippedMap(res)
	for p, r := range want {
		if got[p] != r {
			t.Errorf("skipped %s: got %q, want %q", p, got[p], r)
		}
	}
	if len(got) != len(want) {
		t.Errorf("skipped = %v, want %v", res.Skipped, want)
	}
	for _, f := range res.Files {
		if bytes.Contains(f.Content, []byte("outside the repository")) {
			t.Errorf("%s: followed a symlink out of the repository", f.Path)
		}
	}
	if f := fileByPath(res, "empty.txt"); f == nil || f.Size != 0 ||
		f.Hash != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty.txt = %+v", f)
	}
}

func TestScanTooLarge(t *testing.T) {
	root := t.TempDir()
	ingesttest.Write(t, root, "big.txt", strings.Repeat("y", 200))
	ingesttest.Write(t, root, "exact.txt", strings.Repeat("z", 100))
	res := scan(t, root, Options{MaxFileSize: 100})
	wantPaths(t, res, "exact.txt")
	if got := skippedMap(res)["big.txt"]; got != "too large (200 bytes > 100 limit)" {
		t.Errorf("big.txt reason = %q", got)
	}
	res = scan(t, root, Options{})
	wantPaths(t, res, "big.txt", "exact.txt")
}

func TestScanTrackedSymlinkAndNested(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, "real/a.txt", "a\n")
	ingesttest.Symlink(t, "real/a.txt", filepath.Join(root, "link.txt"))
	ingesttest.Commit(t, repo, "real/a.txt", "link.txt")
	// A tracked path that now runs through a symlinked folder.
	outside := t.TempDir()
	ingesttest.Write(t, outside, "a.txt", "outside\n")
	if err := os.RemoveAll(filepath.Join(root, "real")); err != nil {
		t.Fatal(err)
	}
	ingesttest.Symlink(t, outside, filepath.Join(root, "real"))
	// A nested repository is not descended into.
	if _, err := git.PlainInit(filepath.Join(root, "vendor/other"), false); err != nil {
		t.Fatal(err)
	}
	ingesttest.Write(t, root, "vendor/other/x.go", "package other\n")
	ingesttest.Write(t, root, "vendor/y.txt", "y\n")

	// IncludeVendored: this test is about the nested repository, not vendor/.
	res := scan(t, root, Options{IncludeVendored: true})
	wantPaths(t, res, "vendor/y.txt")
	want := map[string]string{
		"link.txt":     ReasonSymlink,
		"real":         ReasonSymlink,
		"real/a.txt":   ReasonSymlink,
		"vendor/other": ReasonNestedGit,
	}
	got := skippedMap(res)
	for p, r := range want {
		if got[p] != r {
			t.Errorf("skipped %s: got %q, want %q", p, got[p], r)
		}
	}
	if len(got) != len(want) {
		t.Errorf("skipped = %v", res.Skipped)
	}
}

func TestScanUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		// root reads a chmod 000 file anyway, so permission denied cannot
		// be produced here; the reason's format is checked by
		// TestUnreadableReason instead.
		t.Skip("running as root: chmod 000 does not make a file unreadable")
	}
	root := t.TempDir()
	ingesttest.Write(t, root, "ok.txt", "ok\n")
	ingesttest.Write(t, root, "locked.txt", "secret\n")
	ingesttest.Write(t, root, "lockeddir/x.txt", "x\n")
	for _, p := range []string{"locked.txt", "lockeddir"} {
		full := filepath.Join(root, p)
		if err := os.Chmod(full, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(full, 0o755) })
	}
	res := scan(t, root, Options{})
	wantPaths(t, res, "ok.txt")
	got := skippedMap(res)
	for _, p := range []string{"locked.txt", "lockeddir"} {
		if got[p] != "unreadable: permission denied" {
			t.Errorf("%s: reason %q", p, got[p])
		}
	}
}

func TestUnreadableReason(t *testing.T) {
	_, err := os.Open(filepath.Join(t.TempDir(), "nope"))
	if got := unreadable(err); got != "unreadable: no such file or directory" {
		t.Errorf("unreadable() = %q", got)
	}
}

func TestScanVanished(t *testing.T) {
	root := t.TempDir()
	s := &scanner{root: root, max: DefaultMaxFileSize}
	if f := s.readOne(cand{path: "listed-then-deleted.txt"}); f != nil {
		t.Fatalf("got file %+v", f)
	}
	if f := s.readOne(cand{path: "tracked-deleted.txt", tracked: true}); f != nil {
		t.Fatalf("got file %+v", f)
	}
	want := []ingest.Skipped{{Path: "listed-then-deleted.txt", Reason: ReasonVanished}}
	if len(s.skipped) != 1 || s.skipped[0] != want[0] {
		t.Errorf("skipped = %v, want %v", s.skipped, want)
	}
}

func TestScanPlainFolder(t *testing.T) {
	root := t.TempDir()
	ingesttest.Write(t, root, "a.go", "package a\n\nconst X = 1\n")
	ingesttest.Write(t, root, ".gitignore", "node_modules/\n")
	ingesttest.Write(t, root, "node_modules/m.js", "x\n")
	ingesttest.Write(t, root, "web/.gitignore", "dist\n")
	ingesttest.Write(t, root, "web/dist/app.js", "x\n")
	ingesttest.Write(t, root, "web/src/app.js", "x\n")
	res := scan(t, root, Options{})
	wantPaths(t, res, ".gitignore", "a.go", "web/.gitignore", "web/src/app.js")
	if f := fileByPath(res, "a.go"); f == nil || len(f.Symbols) != 1 || f.Symbols[0].Name != "X" {
		t.Errorf("a.go = %+v", f)
	}
}

func TestScanEmptyRepository(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, "staged.go", "package p\n")
	ingesttest.Write(t, root, "untracked.md", "# hi\n")
	ingesttest.Write(t, root, ".gitignore", "*.o\n")
	ingesttest.Write(t, root, "x.o", "obj\n")
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("staged.go"); err != nil {
		t.Fatal(err)
	}
	res := scan(t, root, Options{})
	wantPaths(t, res, ".gitignore", "staged.go", "untracked.md")
	if f := fileByPath(res, "staged.go"); f == nil || !f.Tracked {
		t.Errorf("staged.go = %+v", f)
	}

	// No commits and no index at all.
	root2, _ := ingesttest.InitRepo(t)
	wantPaths(t, scan(t, root2, Options{}))
}

func TestScanBareRepository(t *testing.T) {
	dir := t.TempDir()
	if _, err := git.PlainInit(dir, true); err != nil {
		t.Fatal(err)
	}
	_, err := Scan(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "is a bare git repository; lore needs a work tree") {
		t.Fatalf("err = %v", err)
	}
}

func TestScanErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Scan(context.Background(), filepath.Join(dir, "missing"), Options{}); err == nil ||
		!strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing: err = %v", err)
	}
	ingesttest.Write(t, dir, "f.txt", "x")
	if _, err := Scan(context.Background(), filepath.Join(dir, "f.txt"), Options{}); err == nil ||
		!strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestScanLinkedWorktree(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not available")
	}
	ingesttest.IsolateGitConfig(t)
	base := t.TempDir()
	main := filepath.Join(base, "main")
	gitRun := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.MkdirAll(main, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(main, "init", "-q", "-b", "main")
	ingesttest.Write(t, main, "a.go", "package a\n")
	gitRun(main, "add", "a.go")
	gitRun(main, "commit", "-q", "-m", "init")
	ingesttest.Write(t, main, ".git/info/exclude", "*.local\n")
	wtDir := filepath.Join(base, "wt")
	gitRun(main, "worktree", "add", "-q", "-b", "feature", wtDir)
	ingesttest.Write(t, wtDir, "b.txt", "untracked in worktree\n")
	ingesttest.Write(t, wtDir, "c.local", "excluded via the common dir\n")

	res := scan(t, wtDir, Options{})
	wantPaths(t, res, "a.go", "b.txt")
}

func TestIsBinary(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"plain\n", false},
		{"naïve ✓ 日本語\n", false},
		{"a\x00b", true},
		{strings.Repeat("a", 99) + "\xff", false}, // exactly 1%: not more
		{strings.Repeat("a", 98) + "\xff\xff", true},
		{strings.Repeat("a", binarySniff) + "\x00", false}, // beyond the window
	} {
		if got := IsBinary([]byte(c.in)); got != c.want {
			t.Errorf("IsBinary(%.20q…) = %v, want %v", c.in, got, c.want)
		}
	}
}
