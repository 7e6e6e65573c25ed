package scan

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Selection rules beyond what git itself ignores. They decide which of the
// files git would list go into the pack:
//
//   - .loreignore files (gitignore syntax, at any level, in git and plain
//     trees) and Options.Exclude (gitignore patterns that apply from the
//     root, below every .loreignore in priority) leave paths out silently,
//     tracked or not, exactly as .gitignore does for untracked files: they are
//     the user's own choice.
//   - Vendored folders (vendorDirs) are left out unless
//     Options.IncludeVendored, tracked files in them too: one Skipped
//     record per top-most vendored folder, "vendored", or
//     "vendored (N tracked files)" when the index holds files in it.
//   - Generated files are left out unless Options.IncludeGenerated: lock
//     files, minified JavaScript and CSS, source maps, and files whose first
//     KiB carries a generated-code marker; the reason is "generated (lock
//     file)", "generated (minified)", "generated (source map)" or
//     "generated (marker)".
//   - Secrets are always left out, whatever the options: see DetectSecret.
//     The reason is "secret: " and the kind, never the secret itself.
//   - Submodules (gitlinks in the index, or paths registered in .gitmodules)
//     are listed as "submodule" and not descended into; any other folder
//     holding a .git is a "nested git repository".

// Skip reasons of the selection rules. ReasonVendored and ReasonGenerated may
// be followed by details in parentheses; ReasonSecret is always followed by
// the kind of secret. Compare with strings.HasPrefix.
const (
	ReasonVendored  = "vendored"
	ReasonGenerated = "generated"
	ReasonSecret    = "secret: "
	ReasonSubmodule = "submodule"
)

// LoreIgnoreFile is the name of the gitignore-style files that leave paths out
// of the pack.
const LoreIgnoreFile = ".loreignore"

// vendorDirs are folder names whose content is third-party code copied into
// the tree. Matched case-sensitively against every path component.
var vendorDirs = map[string]bool{
	"vendor":           true,
	"node_modules":     true,
	"third_party":      true,
	"third-party":      true,
	"thirdparty":       true,
	".venv":            true,
	"venv":             true,
	"site-packages":    true,
	"__pypackages__":   true,
	".tox":             true,
	".nox":             true,
	"bower_components": true,
	"jspm_packages":    true,
	"web_modules":      true,
	".pnpm-store":      true,
	".yarn":            true,
	"Pods":             true,
	"Carthage":         true,
	".bundle":          true,
	"elm-stuff":        true,
	".terraform":       true,
}

// IsVendoredDir reports whether a folder's base name marks vendored code.
func IsVendoredDir(name string) bool { return vendorDirs[name] }

// selector applies the selection rules for one scan. With a nil *selector (a
// scanner built by hand in tests) no path rule applies; secrets and generated
// files are still left out.
type selector struct {
	root             string
	includeVendored  bool
	includeGenerated bool
	exclude          []gitignore.Pattern
	submodules       map[string]bool // paths registered in .gitmodules

	mu       sync.Mutex
	dirPats  map[string][]gitignore.Pattern // lore patterns in force in a folder
	dirOut   map[string]bool                // folder excluded by lore patterns
	vendored map[string]int                 // top-most vendored folder -> tracked files in it
}

func newSelector(root string, opts Options) *selector {
	sel := &selector{
		root:             root,
		includeVendored:  opts.IncludeVendored,
		includeGenerated: opts.IncludeGenerated,
		submodules:       readGitmodules(filepath.Join(root, ".gitmodules")),
		dirPats:          map[string][]gitignore.Pattern{},
		dirOut:           map[string]bool{},
		vendored:         map[string]int{},
	}
	for _, line := range opts.Exclude {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		sel.exclude = append(sel.exclude, gitignore.ParsePattern(line, nil))
	}
	return sel
}

// readGitmodules returns the submodule paths a .gitmodules file registers.
func readGitmodules(file string) map[string]bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	m := config.NewModules()
	if err := m.Unmarshal(b); err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, sm := range m.Submodules {
		if p := strings.Trim(path.Clean(filepath.ToSlash(sm.Path)), "/"); p != "" && p != "." {
			out[p] = true
		}
	}
	return out
}

// patterns returns the lore patterns in force inside folder dir (slash path,
// "" for the root), lowest priority first: Options.Exclude, then each
// .loreignore from the root down to dir.
func (sel *selector) patterns(dir string) []gitignore.Pattern {
	sel.mu.Lock()
	ps, ok := sel.dirPats[dir]
	sel.mu.Unlock()
	if ok {
		return ps
	}
	var parts []string
	if dir == "" {
		ps = sel.exclude
	} else {
		parent := path.Dir(dir)
		if parent == "." {
			parent = ""
		}
		ps = sel.patterns(parent)
		parts = strings.Split(dir, "/")
	}
	if more := readIgnoreFile(filepath.Join(sel.root, filepath.FromSlash(dir), LoreIgnoreFile), parts); len(more) > 0 {
		ps = append(ps[:len(ps):len(ps)], more...)
	}
	sel.mu.Lock()
	sel.dirPats[dir] = ps
	sel.mu.Unlock()
	return ps
}

// matchOne reports whether the lore patterns of p's folder exclude p itself,
// without looking at the folders above it.
func (sel *selector) matchOne(parts []string, isDir bool) bool {
	ps := sel.patterns(path.Join(parts[:len(parts)-1]...))
	return len(ps) > 0 && gitignore.NewMatcher(ps).Match(parts, isDir)
}

// excluded reports whether the lore patterns leave p out, p or a folder
// above it.
func (sel *selector) excluded(p string, isDir bool) bool {
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		if sel.dirExcluded(parts[:i]) {
			return true
		}
	}
	return sel.matchOne(parts, isDir)
}

func (sel *selector) dirExcluded(parts []string) bool {
	key := path.Join(parts...)
	sel.mu.Lock()
	out, ok := sel.dirOut[key]
	sel.mu.Unlock()
	if ok {
		return out
	}
	out = sel.matchOne(parts, true)
	sel.mu.Lock()
	sel.dirOut[key] = out
	sel.mu.Unlock()
	return out
}

// vendoredDir returns the top-most vendored folder above p, or "".
func vendoredDir(p string) string {
	parts := strings.Split(p, "/")
	for i := 0; i < len(parts)-1; i++ {
		if vendorDirs[parts[i]] {
			return path.Join(parts[:i+1]...)
		}
	}
	return ""
}

// skipInWalk applies the selection rules to an untracked entry the walk is
// about to list or descend into (parts, slash path p). It returns true when
// the walk must leave it: excluded by a lore pattern (silently), a
// registered submodule or a vendored folder (recorded).
func (s *scanner) skipInWalk(parts []string, p string, isDir bool) bool {
	sel := s.sel
	if sel == nil {
		return false
	}
	if sel.matchOne(parts, isDir) {
		if isDir {
			sel.mu.Lock()
			sel.dirOut[p] = true
			sel.mu.Unlock()
		}
		return true
	}
	if !isDir {
		return false
	}
	if sel.submodules[p] {
		s.skip(p, ReasonSubmodule)
		return true
	}
	if !sel.includeVendored && vendorDirs[parts[len(parts)-1]] {
		sel.mu.Lock()
		if _, ok := sel.vendored[p]; !ok {
			sel.vendored[p] = 0
		}
		sel.mu.Unlock()
		return true
	}
	return false
}

// skipTracked applies the selection rules that need no content to a path
// from the index. It returns true when the path must be left out: excluded
// by a lore pattern (silently) or inside a vendored folder (counted for that
// folder's record, when the file is on disk).
func (s *scanner) skipTracked(p string) bool {
	sel := s.sel
	if sel == nil {
		return false
	}
	if sel.excluded(p, false) {
		return true
	}
	if sel.includeVendored {
		return false
	}
	dir := vendoredDir(p)
	if dir == "" {
		return false
	}
	if _, err := os.Lstat(s.abs(p)); err == nil {
		sel.mu.Lock()
		sel.vendored[dir]++
		sel.mu.Unlock()
	}
	return true
}

// reportVendored records one Skipped entry per vendored folder left out.
func (s *scanner) reportVendored() {
	sel := s.sel
	if sel == nil {
		return
	}
	sel.mu.Lock()
	dirs := make([]string, 0, len(sel.vendored))
	for d := range sel.vendored {
		dirs = append(dirs, d)
	}
	sel.mu.Unlock()
	sort.Strings(dirs)
	for _, d := range dirs {
		n := sel.vendored[d]
		switch n {
		case 0:
			s.skip(d, ReasonVendored)
		case 1:
			s.skip(d, ReasonVendored+" (1 tracked file)")
		default:
			s.skip(d, fmt.Sprintf("%s (%d tracked files)", ReasonVendored, n))
		}
	}
}

// skipByName records and reports a file left out by its name alone: a
// credential file (always) or a generated one (unless IncludeGenerated).
// It runs before the file is read, so that a key store or a lock file is
// named for what it is rather than as binary or too large.
func (s *scanner) skipByName(p string) bool {
	if kind := secretFileKind(p); kind != "" {
		s.skip(p, ReasonSecret+kind)
		return true
	}
	// A .pem file is judged on its content (certificates are public), which
	// DetectSecret sees after the read; too large or binary, it is left out
	// anyway.
	if s.sel != nil && s.sel.includeGenerated {
		return false
	}
	if r := generatedByName(p); r != "" {
		s.skip(p, r)
		return true
	}
	return false
}

// skipByContent records and reports a text file left out for what it holds:
// a secret (always) or a generated-code marker or minified code (unless
// IncludeGenerated).
func (s *scanner) skipByContent(p, hash string, content []byte) bool {
	r, ok := s.parses.verdict(p, hash)
	if !ok {
		r = contentReason(p, content)
		s.parses.putVerdict(p, hash, r)
	}
	if r == "" || (s.sel != nil && s.sel.includeGenerated && !strings.HasPrefix(r, ReasonSecret)) {
		return false
	}
	s.skip(p, r)
	return true
}

// contentReason is why a file's content keeps it out of the pack: a secret
// (always) or generated code; "" when it may go in.
func contentReason(p string, content []byte) string {
	if kind, ok := DetectSecret(p, content); ok {
		return ReasonSecret + kind
	}
	return GeneratedReason(p, content)
}

// ReasonExcluded is what SkipReason says of a path that a .loreignore file or
// Options.Exclude leaves out (Scan itself leaves those out silently).
const ReasonExcluded = "excluded by .loreignore or configuration"

// SkipReason applies Scan's rules to one file outside a scan (a file the
// watcher saw change, an unsaved editor buffer headed for the overlay), as
// WithBuffers does: git's ignore rules unless the git index tracks the file,
// .git, symlinks and nested repositories on its path, .loreignore and
// opts.Exclude, vendored folders, then its name and content (secrets, size,
// binary, generated code). It returns the reason the file must stay out of
// the pack, or "" when it may go in. root is the scan root and p the
// slash-separated path below it; the path is judged against the disk as it
// is now, and need not exist.
func SkipReason(root, p string, content []byte, opts Options) string {
	return newAdmission(root, opts).reason(p, content)
}

// Judge is SkipReason for many files: the git index and the rules are read
// once, when Judge is called.
func Judge(root string, opts Options) func(p string, content []byte) string {
	return newAdmission(root, opts).reason
}
