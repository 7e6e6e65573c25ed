package scan

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"lore/ingest/internal/ingesttest"
)

// TestBuffersFollowSelection: an unsaved buffer goes through exactly the
// scan's selection, by path as well as by content: git's ignore rules (a
// tracked file in an ignored folder still counts), .git, symlinked files
// and folders, nested repositories. A buffer is never a way around the
// selection.
func TestBuffersFollowSelection(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	outside := t.TempDir()
	ingesttest.Write(t, outside, "passwd", "root:x:0:0:root:/root:/bin/bash\n")
	ingesttest.Write(t, outside, "hosts", "127.0.0.1 localhost\n")
	names := ingesttest.WriteArchive(t, root, `
-- main.go --
package main
-- .gitignore --
local.conf
build/
*.log
-- build/keep.go --
package build
-- docs/a.md --
# A
`)
	ingesttest.Commit(t, repo, names...)
	ingesttest.Write(t, root, "nested/.git/HEAD", "ref: refs/heads/main\n")
	ingesttest.Write(t, root, "nested/x.go", "package nested\n")
	ingesttest.Symlink(t, filepath.Join(outside, "passwd"), filepath.Join(root, "plink"))
	ingesttest.Symlink(t, outside, filepath.Join(root, "etc"))
	ingesttest.Symlink(t, "docs", filepath.Join(root, "docslink"))
	res := scan(t, root, Options{})

	text := "db_host = example.org\n"
	buffers := map[string][]byte{
		"main.go":            []byte("package main // unsaved\n"),
		"new.go":             []byte("package main // new, not saved yet\n"),
		"newdir/new.go":      []byte("package newdir\n"),
		"build/keep.go":      []byte("package build // tracked in an ignored folder\n"),
		"local.conf":         []byte(text),
		"build/new.go":       []byte("package build\n"),
		"sub/debug.log":      []byte(text),
		"plink":              []byte(text),
		"etc/hosts":          []byte(text),
		"etc/new.txt":        []byte(text),
		"docslink/a.md":      []byte(text),
		".git/config":        []byte(text),
		"nested/.git/config": []byte(text),
		"nested/x.go":        []byte("package nested\n"),
		"nested":             []byte(text),
	}
	out := WithBuffers(res, buffers, Options{})
	wantPaths(t, out, ".gitignore", "build/keep.go", "docs/a.md", "main.go", "new.go", "newdir/new.go")
	for _, p := range []string{"main.go", "build/keep.go", "new.go"} {
		if f := fileByPath(out, p); f == nil || string(f.Content) != string(buffers[p]) {
			t.Errorf("%s: the buffer's text is not what the result holds", p)
		}
	}
	if f := fileByPath(out, "build/keep.go"); f == nil || !f.Tracked {
		t.Errorf("build/keep.go: a tracked file's buffer must stay tracked")
	}
	for p, want := range map[string]string{
		"local.conf":         "editor buffer: " + ReasonIgnored,
		"build/new.go":       "editor buffer: " + ReasonIgnored,
		"sub/debug.log":      "editor buffer: " + ReasonIgnored,
		"plink":              "editor buffer: " + ReasonSymlink,
		"etc/hosts":          "editor buffer: " + ReasonSymlink,
		"etc/new.txt":        "editor buffer: " + ReasonSymlink,
		"docslink/a.md":      "editor buffer: " + ReasonSymlink,
		".git/config":        "editor buffer: " + ReasonGitDir,
		"nested/.git/config": "editor buffer: " + ReasonGitDir,
		"nested/x.go":        "editor buffer: " + ReasonNestedGit,
		"nested":             "editor buffer: " + ReasonNestedGit,
	} {
		if !hasSkipped(out, p, want) {
			t.Errorf("buffer %s: not skipped as %q: %v", p, want, out.Skipped)
		}
	}

	// A buffer holding what the scan read is taken exactly when the scan took
	// the file: the rules agree with the scan's own.
	same := map[string][]byte{}
	for _, f := range res.Files {
		same[f.Path] = f.Content
	}
	if out := WithBuffers(res, same, Options{}); !slices.Equal(paths(out), paths(res)) || len(out.Skipped) != len(res.Skipped) {
		t.Errorf("buffers of the scanned files: files %q, skipped %v; the scan had %q, %v", paths(out), out.Skipped, paths(res), res.Skipped)
	}

	// Outside git, the .gitignore files still rule, as they do for Scan.
	plain := t.TempDir()
	ingesttest.Write(t, plain, ".gitignore", "*.conf\n")
	ingesttest.Write(t, plain, "a.go", "package a\n")
	out = WithBuffers(scan(t, plain, Options{}), map[string][]byte{"local.conf": []byte(text)}, Options{})
	if !hasSkipped(out, "local.conf", "editor buffer: "+ReasonIgnored) {
		t.Errorf("plain folder: local.conf not skipped as ignored: %v", out.Skipped)
	}

	// A folder replaced by a symlink after the scan is seen at once.
	if err := os.RemoveAll(filepath.Join(root, "docs")); err != nil {
		t.Fatal(err)
	}
	ingesttest.Symlink(t, outside, filepath.Join(root, "docs"))
	out = WithBuffers(res, map[string][]byte{"docs/hosts": []byte(text)}, Options{})
	if !hasSkipped(out, "docs/hosts", "editor buffer: "+ReasonSymlink) {
		t.Errorf("docs/hosts through a folder now a symlink: %v", out.Skipped)
	}
}

func hasSkipped(res *Result, p, reason string) bool {
	for _, s := range res.Skipped {
		if s.Path == p && s.Reason == reason {
			return true
		}
	}
	return false
}
