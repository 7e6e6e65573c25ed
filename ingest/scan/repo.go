package scan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// OpenRepo opens the git repository whose work tree root is root (root/.git
// is a folder, or a file "gitdir: ..." as in linked worktrees and
// submodules; a linked worktree's objects and refs come from its common
// directory). Like Scan it does not look above root: a folder without .git is
// git.ErrRepositoryNotExists.
//
// The storage keeps pack file descriptors open (filesystem.Options
// KeepDescriptors): go-git's default re-opens the pack file for every
// object, which made ChangedFiles over 500 commits of a 260 MB pack twice as
// slow here (more where opening files costs more). The returned func closes
// those descriptors; call it when done with the repository.
func OpenRepo(root string) (*git.Repository, func() error, error) {
	gitDir, commonDir, err := gitDirs(root)
	if err != nil {
		return nil, nil, err
	}
	var fs billy.Filesystem = osfs.New(gitDir)
	if commonDir != gitDir {
		fs = dotgit.NewRepositoryFilesystem(fs, osfs.New(commonDir))
	}
	st := filesystem.NewStorageWithOptions(fs, cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	repo, err := git.Open(st, osfs.New(root))
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("open git repository %s: %w", root, err)
	}
	return repo, st.Close, nil
}

// gitDirs resolves root/.git to the per-worktree git folder (HEAD, index)
// and the common folder (objects, refs); both are the same for an ordinary
// repository.
func gitDirs(root string) (gitDir, commonDir string, err error) {
	dotgit := filepath.Join(root, ".git")
	fi, err := os.Stat(dotgit)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", git.ErrRepositoryNotExists
	} else if err != nil {
		return "", "", fmt.Errorf("open git repository %s: %w", root, err)
	}
	gitDir = dotgit
	if !fi.IsDir() {
		b, err := os.ReadFile(dotgit)
		if err != nil {
			return "", "", fmt.Errorf("open git repository %s: %w", root, err)
		}
		line := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		dir, ok := strings.CutPrefix(line, "gitdir:")
		if !ok {
			return "", "", fmt.Errorf("open git repository %s: .git file has no gitdir: line", root)
		}
		gitDir = strings.TrimSpace(dir)
		if !filepath.IsAbs(gitDir) {
			gitDir = filepath.Join(root, gitDir)
		}
		if _, err := os.Stat(gitDir); err != nil {
			return "", "", fmt.Errorf("open git repository %s: %w", root, err)
		}
	}
	commonDir = gitDir
	if c, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		commonDir = strings.TrimSpace(string(c))
		if !filepath.IsAbs(commonDir) {
			commonDir = filepath.Join(gitDir, commonDir)
		}
	}
	return filepath.Clean(gitDir), filepath.Clean(commonDir), nil
}

// isBareRepo reports whether dir looks like a bare git repository: a HEAD
// file next to objects and refs folders. OpenRepo reports such a folder as
// git.ErrRepositoryNotExists (it has no .git), so Scan asks this to refuse
// it with a clear error instead of scanning the repository's internals.
func isBareRepo(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	for _, sub := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}
