// Package scan lists and reads the files git would consider part of a work
// tree (Scan), leaving out binary, oversized, vendored, generated and
// secret-holding files with their reasons, and applies unsaved editor
// buffers on top (WithBuffers). It also opens the repository (OpenRepo) and
// names its branch (Branch).
package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"lore/ingest"
	"lore/ingest/syntax"
)

// DefaultMaxFileSize is the size above which a file is skipped when
// Options.MaxFileSize is zero.
const DefaultMaxFileSize = 1 << 20

// binarySniff is how much of a file's head decides whether it is binary.
const binarySniff = 8 << 10

// Skip reasons that callers may compare against. "too large" and
// "unreadable" carry details after the word.
const (
	ReasonBinary    = "binary"
	ReasonSymlink   = "symlink"
	ReasonNotFile   = "not a regular file"
	ReasonVanished  = "vanished during scan"
	ReasonNestedGit = "nested git repository"
)

// Options tune Scan. Secrets are left out whatever they say (see
// DetectSecret and select.go for every selection rule).
type Options struct {
	// MaxFileSize skips larger files; 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// IncludeVendored keeps vendored folders (vendor/, node_modules/,
	// third_party/, .venv/, ...; see IsVendoredDir), tracked or not.
	IncludeVendored bool
	// IncludeGenerated keeps generated files: lock files, minified code,
	// source maps and files marked "Code generated ... DO NOT EDIT." or
	// "@generated".
	IncludeGenerated bool
	// Exclude holds extra gitignore-style patterns (from configuration) that
	// leave paths out of the pack, tracked or not, as .loreignore files do;
	// they apply from the root, below every .loreignore in priority.
	Exclude []string
	// Cache, when set, keeps parse results (symbols and references) by
	// language and content hash, so that an unchanged file is not parsed
	// again (see syntax.Fill). cache.Store implements it.
	Cache ingest.KV
	// Previous is an earlier scan of the same root: a file whose size,
	// modification time and inode are unchanged since (and that was not
	// written around that scan) is taken from it without being read.
	Previous *Result
	// Progress, when set, is told how many of the listed files have been
	// read (and parsed), from the reading goroutines' feeder.
	Progress func(done, total int)
}

// Result is the outcome of a Scan.
type Result struct {
	Root    string           // absolute, symlinks resolved
	Git     bool             // whether Root is a git work tree (index + ignore rules used)
	Files   []ingest.File    // sorted by Path
	Skipped []ingest.Skipped // sorted by Path

	started time.Time  // when the scan began listing
	adm     *admission // the rules it selected with, for files outside it
}

// Scan lists and reads the files of the tree at root, the way git sees it:
// in a git work tree the files in the index that still exist on disk plus the
// untracked files no ignore rule excludes (.gitignore at every level,
// $GIT_DIR/info/exclude, core.excludesFile); outside git, every file that no
// .gitignore excludes. Root should be a work tree root (see config.FindRoot): a
// subfolder of a repository is scanned as a plain folder.
//
// It never descends into .git or nested repositories and never follows
// symlinks. Binary, oversized, unreadable and vanished files are reported in
// Skipped, never silently dropped; tracked files deleted from disk are simply
// not there. A bare repository is an error.
//
// On top of what git ignores, .loreignore files and opts.Exclude leave paths
// out silently; vendored folders, generated files, secrets and submodules are
// left out with a reason in Skipped (see select.go). A file holding a secret
// is never in the result, whatever opts says.
func Scan(ctx context.Context, root string, opts Options) (*Result, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	abs, err = filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("scan: %s does not exist", root)
		}
		return nil, fmt.Errorf("scan: %w", err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("scan: %s is not a directory", root)
	}
	max := opts.MaxFileSize
	if max <= 0 {
		max = DefaultMaxFileSize
	}

	s := &scanner{root: abs, max: max, sel: newSelector(abs, opts), started: time.Now()}
	s.parses = &parseCache{kv: opts.Cache}
	s.progress = opts.Progress
	if prev := opts.Previous; prev != nil && prev.Root == abs {
		s.prev = make(map[string]*ingest.File, len(prev.Files))
		s.prevStart = prev.started
		for i := range prev.Files {
			s.prev[prev.Files[i].Path] = &prev.Files[i]
		}
	}
	var base []gitignore.Pattern
	repo, closeRepo, err := OpenRepo(abs)
	if err == nil {
		defer closeRepo()
	}
	switch {
	case errors.Is(err, git.ErrRepositoryNotExists) && isBareRepo(abs):
		return nil, fmt.Errorf("scan: %s is a bare git repository; lore needs a work tree", abs)
	case errors.Is(err, git.ErrRepositoryNotExists):
		// A plain folder: walk it, honouring any .gitignore files.
	case err != nil:
		return nil, fmt.Errorf("scan: open git repository %s: %w", abs, err)
	default:
		if _, err := repo.Worktree(); errors.Is(err, git.ErrIsBareRepository) {
			return nil, fmt.Errorf("scan: %s is a bare git repository; lore needs a work tree", abs)
		} else if err != nil {
			return nil, fmt.Errorf("scan: open work tree %s: %w", abs, err)
		}
		idx, err := repo.Storer.Index()
		if err != nil {
			return nil, fmt.Errorf("scan: read git index of %s: %w", abs, err)
		}
		s.git = true
		s.tracked = make(map[string]filemode.FileMode, len(idx.Entries))
		for _, e := range idx.Entries {
			s.tracked[e.Name] = e.Mode
		}
		base = repoExcludes(abs)
	}

	if err := s.walk(ctx, nil, base); err != nil {
		return nil, err
	}
	// Tracked files come from the index, so that a tracked file inside an
	// ignored folder (or matching an ignore rule) is still included.
	for p, mode := range s.tracked {
		if s.skipTracked(p) {
			continue // .loreignore, Exclude or a vendored folder
		}
		if mode == filemode.Submodule {
			if _, err := os.Lstat(s.abs(p)); err == nil {
				s.skip(p, ReasonSubmodule)
			}
			continue
		}
		s.cands = append(s.cands, cand{path: p, tracked: true})
	}
	s.reportVendored()
	sort.Slice(s.cands, func(i, j int) bool { return s.cands[i].path < s.cands[j].path })

	files, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(s.skipped, func(i, j int) bool {
		a, b := s.skipped[i], s.skipped[j]
		return a.Path < b.Path || a.Path == b.Path && a.Reason < b.Reason
	})
	adm := &admission{root: abs, git: s.git, tracked: s.tracked, base: base, sel: s.sel, max: max}
	return &Result{Root: abs, Git: s.git, Files: files, Skipped: s.skipped, started: s.started, adm: adm}, nil
}

// Untracked lists the untracked files of the work tree at root that no git
// ignore rule excludes, whether or not Scan would keep them (Scan's walk
// without its selection rules); tracked holds the paths in the git index.
func Untracked(ctx context.Context, root string, tracked map[string]filemode.FileMode) ([]string, error) {
	s := &scanner{root: root, tracked: tracked}
	if err := s.walk(ctx, nil, repoExcludes(root)); err != nil {
		return nil, err
	}
	out := make([]string, len(s.cands))
	for i, c := range s.cands {
		out[i] = c.path
	}
	return out, nil
}

type cand struct {
	path    string
	tracked bool
}

type scanner struct {
	root    string
	max     int64
	git     bool
	tracked map[string]filemode.FileMode // index entries by path; nil outside git
	sel     *selector                    // selection rules (select.go); nil: secrets and generated only
	parses  *parseCache                  // parse results and content verdicts by content hash (cache.go)

	progress  func(done, total int)
	started   time.Time               // when this scan began
	prev      map[string]*ingest.File // Options.Previous's files by path
	prevStart time.Time               // when the previous scan began

	mu      sync.Mutex
	cands   []cand
	skipped []ingest.Skipped
	dirOK   map[string]bool // folders known to be real (not symlinked) directories
}

func (s *scanner) abs(rel string) string { return filepath.Join(s.root, filepath.FromSlash(rel)) }

func (s *scanner) skip(p, reason string) {
	s.mu.Lock()
	s.skipped = append(s.skipped, ingest.Skipped{Path: p, Reason: reason})
	s.mu.Unlock()
}

// walk lists the untracked, not ignored files below the folder named by
// parts (nil for the root). ps holds the ignore patterns in force, lowest
// priority first; each folder's .gitignore is appended for its subtree.
func (s *scanner) walk(ctx context.Context, parts []string, ps []gitignore.Pattern) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rel := path.Join(parts...)
	dir := s.abs(rel)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if len(parts) == 0 {
			return fmt.Errorf("scan: read %s: %w", s.root, err)
		}
		if errors.Is(err, fs.ErrNotExist) {
			s.skip(rel, ReasonVanished)
		} else {
			s.skip(rel, unreadable(err))
		}
		if len(entries) == 0 {
			return nil
		}
	}
	if more := readIgnoreFile(filepath.Join(dir, ".gitignore"), parts); len(more) > 0 {
		ps = append(ps[:len(ps):len(ps)], more...)
	}
	m := gitignore.NewMatcher(ps)
	for _, e := range entries {
		name := e.Name()
		if name == ".git" {
			continue
		}
		child := append(parts[:len(parts):len(parts)], name)
		p := path.Join(child...)
		if _, ok := s.tracked[p]; ok {
			continue // handled from the index
		}
		typ := e.Type()
		isDir := typ.IsDir()
		if m.Match(child, isDir) || s.skipInWalk(child, p, isDir) {
			continue
		}
		switch {
		case isDir:
			if _, err := os.Lstat(filepath.Join(dir, name, ".git")); err == nil {
				s.skip(p, ReasonNestedGit)
				continue
			}
			if err := s.walk(ctx, child, ps); err != nil {
				return err
			}
		case typ&fs.ModeSymlink != 0:
			s.skip(p, ReasonSymlink)
		case typ.IsRegular():
			s.cands = append(s.cands, cand{path: p})
		default:
			s.skip(p, ReasonNotFile)
		}
	}
	return nil
}

// read loads every candidate in parallel and returns the files in candidate
// (path) order.
func (s *scanner) read(ctx context.Context) ([]ingest.File, error) {
	out := make([]*ingest.File, len(s.cands))
	workers := min(runtime.GOMAXPROCS(0), 8, max(len(s.cands), 1))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = s.readOne(s.cands[i])
			}
		}()
	}
	var err error
feed:
	for i := range s.cands {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
		// Reported as files are handed out: at most workers ahead of done.
		if s.progress != nil && (i%64 == 0 || i == len(s.cands)-1) {
			s.progress(i+1, len(s.cands))
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	files := make([]ingest.File, 0, len(out))
	for _, f := range out {
		if f != nil {
			files = append(files, *f)
		}
	}
	return files, nil
}

// readOne reads one candidate; it returns nil after recording why the file
// is skipped (or, for a tracked file deleted from disk, without a record).
func (s *scanner) readOne(c cand) *ingest.File {
	full := s.abs(c.path)
	if c.tracked && !s.parentIsDir(path.Dir(c.path)) {
		// The path runs through a symlink or a file; git would not follow it.
		if _, err := os.Lstat(full); err == nil {
			s.skip(c.path, ReasonSymlink)
		}
		return nil
	}
	lfi, err := os.Lstat(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if !c.tracked {
				s.skip(c.path, ReasonVanished)
			}
			return nil
		}
		s.skip(c.path, unreadable(err))
		return nil
	}
	switch {
	case lfi.Mode()&fs.ModeSymlink != 0:
		s.skip(c.path, ReasonSymlink)
		return nil
	case lfi.IsDir() && c.tracked:
		if _, err := os.Lstat(filepath.Join(full, ".git")); err == nil {
			s.skip(c.path, ReasonNestedGit)
		} else {
			s.skip(c.path, ReasonNotFile)
		}
		return nil
	case !lfi.Mode().IsRegular():
		s.skip(c.path, ReasonNotFile)
		return nil
	case s.skipByName(c.path): // key files, lock files, minified
		return nil
	case lfi.Size() > s.max:
		s.skip(c.path, tooLarge(lfi.Size(), s.max))
		return nil
	}
	if f := s.unchanged(c.path, lfi); f != nil {
		f.Tracked = c.tracked
		return f
	}
	f, err := os.Open(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.skip(c.path, ReasonVanished)
		} else {
			s.skip(c.path, unreadable(err))
		}
		return nil
	}
	defer f.Close()
	if ofi, err := f.Stat(); err != nil || !os.SameFile(lfi, ofi) {
		// Replaced between listing and opening (perhaps by a symlink).
		s.skip(c.path, ReasonVanished)
		return nil
	}
	content, err := io.ReadAll(io.LimitReader(f, s.max+1))
	if err != nil {
		s.skip(c.path, unreadable(err))
		return nil
	}
	if int64(len(content)) > s.max {
		s.skip(c.path, tooLarge(int64(len(content)), s.max))
		return nil
	}
	if IsBinary(content) {
		s.skip(c.path, ReasonBinary)
		return nil
	}
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	if s.skipByContent(c.path, hash, content) { // secrets, generated code
		return nil
	}
	file := &ingest.File{
		Stat:    ingest.StatOf(lfi),
		Path:    c.path,
		Lang:    syntax.DetectLang(c.path),
		Size:    int64(len(content)),
		Hash:    hash,
		Content: content,
		Tracked: c.tracked,
	}
	s.parses.fill(file)
	return file
}

// unchanged returns a copy of the previous scan's file when its stat says it
// has not changed since: same size, modification time and inode, and
// modified well before the previous scan began (a file written during the
// same clock tick as that scan could have changed unseen, git's "racy"
// case). It is not read again.
func (s *scanner) unchanged(p string, fi fs.FileInfo) *ingest.File {
	prev := s.prev[p]
	if prev == nil || prev.Stat != ingest.StatOf(fi) {
		return nil
	}
	if fi.ModTime().After(s.prevStart.Add(-time.Second)) {
		return nil
	}
	f := *prev
	return &f
}

// parentIsDir reports whether the folder rel (slash-separated, "." for the
// root) and all folders above it are real directories, not symlinks.
func (s *scanner) parentIsDir(rel string) bool {
	if rel == "." || rel == "" {
		return true
	}
	s.mu.Lock()
	ok, seen := s.dirOK[rel]
	s.mu.Unlock()
	if seen {
		return ok
	}
	ok = s.parentIsDir(path.Dir(rel))
	if ok {
		fi, err := os.Lstat(s.abs(rel))
		ok = err == nil && fi.IsDir()
	}
	s.mu.Lock()
	if s.dirOK == nil {
		s.dirOK = make(map[string]bool)
	}
	s.dirOK[rel] = ok
	s.mu.Unlock()
	return ok
}

func tooLarge(size, limit int64) string {
	return fmt.Sprintf("too large (%d bytes > %d limit)", size, limit)
}

// unreadable formats an I/O error without the absolute path, which the
// Skipped record already names relative to the root.
func unreadable(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return "unreadable: " + err.Error()
}

// IsBinary reports whether content looks binary: a NUL byte in the first
// 8 KiB, or more than 1% of those bytes not valid UTF-8.
func IsBinary(content []byte) bool {
	head := content
	if len(head) > binarySniff {
		head = head[:binarySniff]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	if utf8.Valid(head) {
		return false
	}
	invalid := 0
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size == 1 {
			if len(head) < len(content) && !utf8.FullRune(head[i:]) {
				break // a character cut by the sniff window
			}
			invalid++
		}
		i += size
	}
	return invalid*100 > len(head)
}

// String is a short summary for logs.
func (r *Result) String() string {
	return fmt.Sprintf("%s: %d files, %d skipped", r.Root, len(r.Files), len(r.Skipped))
}
