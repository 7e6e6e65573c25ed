package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	want, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, sub, filepath.Join(sub, "..")} {
		if got, err := FindRoot(dir); err != nil || got != want {
			t.Errorf("FindRoot(%s) = %q, %v; want %q", dir, got, err, want)
		}
	}
	// Relative paths and symlinked folders resolve.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(sub, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	if got, err := FindRoot(link); err != nil || got != want {
		t.Errorf("FindRoot(symlink) = %q, %v; want %q", got, err, want)
	}
	t.Chdir(sub)
	for _, dir := range []string{".", ""} { // "" is the working directory
		if got, err := FindRoot(dir); err != nil || got != want {
			t.Errorf("FindRoot(%q) = %q, %v; want %q", dir, got, err, want)
		}
	}
	// A .git file (linked worktree, submodule) marks a root too.
	wt := t.TempDir()
	write(t, filepath.Join(wt, ".git"), "gitdir: /nowhere\n")
	write(t, filepath.Join(wt, "x/y.txt"), "")
	wtWant, _ := filepath.EvalSymlinks(wt)
	if got, err := FindRoot(filepath.Join(wt, "x")); err != nil || got != wtWant {
		t.Errorf("FindRoot(.git file) = %q, %v; want %q", got, err, wtWant)
	}
}

// TestFindRootLinkedWorktree checks a worktree made by git itself: its root
// is the worktree's, not the main repository's.
func TestFindRootLinkedWorktree(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not available")
	}
	base := t.TempDir()
	main, wt := filepath.Join(base, "main"), filepath.Join(base, "wt")
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write(t, filepath.Join(main, "a/a.go"), "package a\n")
	git(main, "init", "-q", "-b", "main")
	git(main, "add", "a/a.go")
	git(main, "commit", "-q", "-m", "init")
	git(main, "worktree", "add", "-q", "-b", "feature", wt)
	want, _ := filepath.EvalSymlinks(wt)
	if got, err := FindRoot(filepath.Join(wt, "a")); err != nil || got != want {
		t.Errorf("FindRoot(linked worktree) = %q, %v; want %q", got, err, want)
	}
}

func TestFindRootNoRepo(t *testing.T) {
	dir := t.TempDir()
	want, _ := filepath.EvalSymlinks(dir)
	if got, err := FindRoot(dir); err != nil || got != want {
		// A .git in a parent of the temp dir would make this ambiguous.
		if _, statErr := os.Stat(filepath.Join(filepath.Dir(want), ".git")); statErr != nil {
			t.Errorf("FindRoot(no repo) = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := FindRoot(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing: err = %v", err)
	}
	write(t, filepath.Join(dir, "f"), "")
	if _, err := FindRoot(filepath.Join(dir, "f")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: err = %v", err)
	}
}
