package lsp

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLSPRepoPath: a document is the repository's only when its real path
// is: symlinks out of the repository and git's own files are not, a
// symlink within it names its target, and a file not saved yet counts.
func TestLSPRepoPath(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	for _, f := range []string{filepath.Join(root, "alpha", "a.go"), filepath.Join(root, ".git", "config"), filepath.Join(outside, "passwd")} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		filepath.Join(root, "etc"):     outside,
		filepath.Join(root, "plink"):   filepath.Join(outside, "passwd"),
		filepath.Join(root, "alink"):   "alpha",
		filepath.Join(root, "gitlink"): ".git",
		filepath.Join(outside, "repo"): root,
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		path, rel string // rel "" means not the repository's
	}{
		{filepath.Join(root, "alpha", "a.go"), "alpha/a.go"},
		{filepath.Join(root, "alink", "a.go"), "alpha/a.go"},
		{filepath.Join(outside, "repo", "alpha", "a.go"), "alpha/a.go"},
		{filepath.Join(root, "new.go"), "new.go"},
		{filepath.Join(root, "newdir", "new.go"), "newdir/new.go"},
		{filepath.Join(root, "etc", "passwd"), ""},
		{filepath.Join(root, "etc", "new.txt"), ""},
		{filepath.Join(root, "plink"), ""},
		{filepath.Join(root, ".git", "config"), ""},
		{filepath.Join(root, "gitlink", "config"), ""},
		{filepath.Join(outside, "passwd"), ""},
	} {
		abs, rel, ok := repoPath(root, fileURI(c.path))
		if ok != (c.rel != "") || rel != c.rel {
			t.Errorf("repoPath(%s) = %q, %q, %v; want %q", c.path, abs, rel, ok, c.rel)
		}
		if ok && abs != filepath.Join(root, filepath.FromSlash(rel)) {
			t.Errorf("repoPath(%s): abs %s is not the real path of %s", c.path, abs, rel)
		}
	}
}
