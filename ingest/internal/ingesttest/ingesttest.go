// Package ingesttest holds the helpers that the tests of ingest's packages
// share: files and git repositories in temporary folders.
package ingesttest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/rogpeppe/go-internal/txtar"
)

// IsolateGitConfig points HOME and XDG_CONFIG_HOME at an empty folder so that
// the machine's global excludes cannot change what a test sees.
func IsolateGitConfig(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	return home
}

// Write writes content to the file rel below root, creating its folders.
func Write(t testing.TB, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteArchive writes the files of a txtar archive below root and returns
// their names in the archive's order, ready for Commit. A fixture tree then
// reads as one block of text, as the Go command's and gopls' tests keep
// theirs.
func WriteArchive(t testing.TB, root, archive string) []string {
	t.Helper()
	a := txtar.Parse([]byte(archive))
	names := make([]string, len(a.Files))
	for i, f := range a.Files {
		Write(t, root, f.Name, string(f.Data))
		names[i] = f.Name
	}
	return names
}

// InitRepo creates a non-bare repository in a new temp folder.
func InitRepo(t testing.TB) (string, *git.Repository) {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return dir, repo
}

// Commit stages the given paths and commits them.
func Commit(t testing.TB, repo *git.Repository, paths ...string) {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if _, err := wt.Add(p); err != nil {
			t.Fatalf("add %s: %v", p, err)
		}
	}
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Unix(1700000000, 0)}
	if _, err := wt.Commit("commit", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatal(err)
	}
}

// Symlink makes link point at target, or skips the test where symlinks
// cannot be made.
func Symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}
