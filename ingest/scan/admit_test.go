package scan

import (
	"path/filepath"
	"testing"

	"lore/ingest/internal/ingesttest"
)

// TestLookup: a path is found as the scan holds it, or comes with the
// reason the scan has no such file, whether it recorded one (a symlink, a
// folder above) or left the path out silently (git's ignore rules, .git).
func TestLookup(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	outside := t.TempDir()
	ingesttest.Write(t, outside, "shadow", "root:*:19000:0:99999:7:::\n")
	names := ingesttest.WriteArchive(t, root, `
-- main.go --
package main
-- .gitignore --
local.conf
-- ui/.loreignore --
*.snap
`)
	ingesttest.Commit(t, repo, names...)
	ingesttest.Write(t, root, "local.conf", "db = example.org\n")
	ingesttest.Write(t, root, "ui/a.snap", "x\n")
	ingesttest.Write(t, root, "vendor/x/x.go", "package x\n")
	ingesttest.Symlink(t, filepath.Join(outside, "shadow"), filepath.Join(root, "plink"))
	ingesttest.Symlink(t, outside, filepath.Join(root, "etc"))
	res := scan(t, root, Options{})

	if f, reason := res.Lookup("main.go"); f == nil || string(f.Content) != "package main\n" || reason != "" {
		t.Errorf("Lookup(main.go) = %v, %q", f, reason)
	}
	for p, want := range map[string]string{
		"plink":         ReasonSymlink,
		"etc/shadow":    ReasonSymlink + " (the folder etc)",
		".git/config":   ReasonGitDir,
		".git/HEAD":     ReasonGitDir,
		"local.conf":    ReasonIgnored,
		"ui/a.snap":     ReasonExcluded,
		"vendor/x/x.go": ReasonVendored + " (the folder vendor)",
		"missing.go":    ReasonNotInTree,
		"../outside":    ReasonBadPath,
	} {
		if f, reason := res.Lookup(p); f != nil || reason != want {
			t.Errorf("Lookup(%s) = %v, %q; want the reason %q", p, f != nil, reason, want)
		}
	}
}

// TestSkipReasonGit: outside a scan, a path is judged with git's rules too:
// ignored unless the index tracks it.
func TestSkipReasonGit(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	names := ingesttest.WriteArchive(t, root, `
-- .gitignore --
*.conf
-- kept.conf --
tracked = yes
`)
	ingesttest.Commit(t, repo, names...)
	for p, want := range map[string]string{
		"kept.conf":   "",
		"local.conf":  ReasonIgnored,
		".git/config": ReasonGitDir,
	} {
		if got := SkipReason(root, p, []byte("a = b\n"), Options{}); got != want {
			t.Errorf("SkipReason(%s) = %q, want %q", p, got, want)
		}
	}
}
