package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lore/ingest/internal/ingesttest"
)

func TestFindRoot(t *testing.T) {
	root, _ := ingesttest.InitRepo(t)
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
	ingesttest.Symlink(t, sub, link)
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
	ingesttest.Write(t, wt, ".git", "gitdir: /nowhere\n")
	ingesttest.Write(t, wt, "x/y.txt", "")
	wtWant, _ := filepath.EvalSymlinks(wt)
	if got, err := FindRoot(filepath.Join(wt, "x")); err != nil || got != wtWant {
		t.Errorf("FindRoot(.git file) = %q, %v; want %q", got, err, wtWant)
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
	ingesttest.Write(t, dir, "f", "")
	if _, err := FindRoot(filepath.Join(dir, "f")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: err = %v", err)
	}
}
