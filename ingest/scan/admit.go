package scan

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"lore/ingest"
)

// Reasons for paths that Scan leaves out silently, named when a file outside
// a scan (an editor buffer, a path a question names) is judged by the
// scan's rules.
const (
	ReasonIgnored   = "ignored by git (.gitignore, .git/info/exclude or the global excludes file)"
	ReasonGitDir    = "inside .git (git's own files)"
	ReasonBadPath   = "not a clean path below the root"
	ReasonNotInTree = "no such file in the work tree"
	ReasonUnseen    = "not in lore's last scan of the work tree (new since; ask again)"
)

// admission is what a scan decided its selection with, kept with its
// Result so that a file outside the scan is judged exactly as the scan
// judged the files it met: git's ignore rules (unless the index tracks the
// file), .git, symlinks, nested repositories, submodules, then lore's own
// rules (select.go) and the file's content.
type admission struct {
	root    string // absolute, symlinks resolved
	git     bool
	tracked map[string]filemode.FileMode // the git index; nil outside git
	base    []gitignore.Pattern          // git's excludes besides .gitignore files
	sel     *selector
	max     int64
}

// newAdmission reads what a scan of root would use: the git index and
// excludes, and opts' rules. A root that is not a readable git work tree is
// judged as a plain folder, as Scan walks one.
func newAdmission(root string, opts Options) *admission {
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	a := &admission{root: root, sel: newSelector(root, opts), max: opts.MaxFileSize}
	if a.max <= 0 {
		a.max = DefaultMaxFileSize
	}
	if repo, closeRepo, err := OpenRepo(root); err == nil {
		defer closeRepo()
		if idx, err := repo.Storer.Index(); err == nil {
			a.git = true
			a.tracked = make(map[string]filemode.FileMode, len(idx.Entries))
			for _, e := range idx.Entries {
				a.tracked[e.Name] = e.Mode
			}
			a.base = repoExcludes(root)
		}
	}
	return a
}

// reason is why the file p with content must stay out of the pack, or ""
// when Scan would take it: first its path, then its name and content in the
// order Scan reads a file.
func (a *admission) reason(p string, content []byte) string {
	if r := a.pathReason(p); r != "" {
		return r
	}
	if kind := secretFileKind(p); kind != "" {
		return ReasonSecret + kind
	}
	if !a.sel.includeGenerated {
		if r := generatedByName(p); r != "" {
			return r
		}
	}
	if int64(len(content)) > a.max {
		return tooLarge(int64(len(content)), a.max)
	}
	if IsBinary(content) {
		return ReasonBinary
	}
	if r := contentReason(p, content); r != "" && (!a.sel.includeGenerated || strings.HasPrefix(r, ReasonSecret)) {
		return r
	}
	return ""
}

// pathReason applies Scan's rules for paths to p, whether or not a file is
// there (an unsaved buffer may be a new file in a new folder): the walk's
// for an untracked path, the index's for a tracked one. It looks at the
// disk as it is now, so a folder replaced by a symlink since the scan is
// seen.
func (a *admission) pathReason(p string) string {
	parts := strings.Split(p, "/")
	for _, c := range parts {
		switch c {
		case "", ".", "..":
			return ReasonBadPath
		case ".git":
			return ReasonGitDir
		}
	}
	if mode, ok := a.tracked[p]; ok {
		return a.trackedReason(p, parts, mode)
	}
	ps := a.base
	for i := range parts {
		dir := parts[:i]
		if more := readIgnoreFile(filepath.Join(a.abs(dir), ".gitignore"), dir); len(more) > 0 {
			ps = append(ps[:len(ps):len(ps)], more...)
		}
		child := parts[:i+1]
		last := i == len(parts)-1
		fi, err := os.Lstat(a.abs(child))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return unreadable(err)
		}
		exists := err == nil
		// Like the walk, which sees a symlink to a folder as no folder.
		isDir := exists && fi.IsDir() || !exists && !last
		if gitignore.NewMatcher(ps).Match(child, isDir) {
			return ReasonIgnored
		}
		if a.sel.matchOne(child, isDir) {
			return ReasonExcluded
		}
		if isDir && !last {
			cp := path.Join(child...)
			if a.sel.submodules[cp] {
				return ReasonSubmodule
			}
			if !a.sel.includeVendored && vendorDirs[parts[i]] {
				return ReasonVendored
			}
		}
		if !exists {
			continue
		}
		if r := typeReason(fi, last, true, a.abs(child)); r != "" {
			return r
		}
	}
	return ""
}

// trackedReason applies the rules Scan applies to a path from the index:
// lore's exclusions, vendored folders, submodules, and no symlink on the
// way (git does not follow them).
func (a *admission) trackedReason(p string, parts []string, mode filemode.FileMode) string {
	if a.sel.excluded(p, false) {
		return ReasonExcluded
	}
	if !a.sel.includeVendored && vendoredDir(p) != "" {
		return ReasonVendored
	}
	if mode == filemode.Submodule {
		return ReasonSubmodule
	}
	for i := range parts {
		full := a.abs(parts[:i+1])
		fi, err := os.Lstat(full)
		if errors.Is(err, fs.ErrNotExist) {
			return "" // deleted from disk: an unsaved buffer may bring it back
		} else if err != nil {
			return unreadable(err)
		}
		if r := typeReason(fi, i == len(parts)-1, false, full); r != "" {
			return r
		}
	}
	return ""
}

// typeReason is why what is on disk at a step of a path (last: the file
// itself) keeps the path out: a symlink, a nested repository (on the way
// only with nested: the walk does not enter one, while a path from the
// index is taken as git lists it), or anything but a folder on the way and
// a regular file at the end.
func typeReason(fi fs.FileInfo, last, nested bool, full string) string {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return ReasonSymlink
	case fi.IsDir():
		if nested || last {
			if _, err := os.Lstat(filepath.Join(full, ".git")); err == nil {
				return ReasonNestedGit
			}
		}
		if last {
			return ReasonNotFile
		}
	case !last || !fi.Mode().IsRegular():
		return ReasonNotFile
	}
	return ""
}

func (a *admission) abs(parts []string) string {
	return filepath.Join(a.root, filepath.FromSlash(path.Join(parts...)))
}

// admission returns the rules r was scanned with; for a Result made by
// hand, those of a scan of its root with opts.
func (r *Result) admission(opts Options) *admission {
	if r.adm != nil {
		return r.adm
	}
	return newAdmission(r.Root, opts)
}

// Lookup returns the file at p (slash-separated, below the root) as the
// scan holds it, or why the scan has no such file: the reason it or a
// folder above it was skipped for, or the rule that leaves it out silently
// (ignored by git, .loreignore, inside .git), or that there is none.
func (r *Result) Lookup(p string) (*ingest.File, string) {
	if i := sort.Search(len(r.Files), func(i int) bool { return r.Files[i].Path >= p }); i < len(r.Files) && r.Files[i].Path == p {
		return &r.Files[i], ""
	}
	for dir := p; dir != "." && dir != "/" && dir != ""; dir = path.Dir(dir) {
		for _, s := range r.Skipped {
			if s.Path != dir {
				continue
			}
			if dir == p {
				return nil, s.Reason
			}
			return nil, s.Reason + " (the folder " + dir + ")"
		}
	}
	if reason := r.admission(Options{}).pathReason(p); reason != "" {
		return nil, reason
	}
	if _, err := os.Lstat(filepath.Join(r.Root, filepath.FromSlash(p))); err == nil {
		return nil, ReasonUnseen
	}
	return nil, ReasonNotInTree
}
