package history

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"

	"lore/ingest/scan"
)

// dirtyPaths lists the paths whose work tree state differs from HEAD's tree
// (headTree zero: no commits): staged and unstaged changes, deletions,
// unmerged entries, and untracked files that are not ignored. See LoadHeat.
func dirtyPaths(ctx context.Context, repo *git.Repository, root string, headTree plumbing.Hash) (map[string]bool, error) {
	idx, err := repo.Storer.Index()
	if err != nil {
		return nil, fmt.Errorf("read git index of %s: %w", root, err)
	}
	head := map[string]heatTreeFile{}
	if !headTree.IsZero() {
		if err := heatFlattenTree(repo, "", headTree, head); err != nil {
			return nil, err
		}
	}
	// core.fileMode = false: the executable bit on disk means nothing.
	checkExec := true
	if cfg, err := repo.Config(); err == nil && cfg.Raw != nil {
		if v := cfg.Raw.Section("core").Option("filemode"); strings.EqualFold(v, "false") {
			checkExec = false
		}
	}
	dirty := map[string]bool{}
	tracked := make(map[string]filemode.FileMode, len(idx.Entries))
	for i, e := range idx.Entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tracked[e.Name] = e.Mode
		// Stage 0 is a merged entry (go-git's index.Merged constant says 1,
		// but its decoder stores the raw stage bits).
		if e.Stage != 0 || e.IntentToAdd {
			dirty[e.Name] = true
			continue
		}
		if h, ok := head[e.Name]; !ok || h.hash != e.Hash || heatCanonicalMode(h.mode) != heatCanonicalMode(e.Mode) {
			dirty[e.Name] = true
			continue
		}
		if e.SkipWorktree || e.Mode == filemode.Submodule {
			continue
		}
		if heatWorktreeDiffers(root, e, idx, checkExec) {
			dirty[e.Name] = true
		}
	}
	for p := range head {
		if _, ok := tracked[p]; !ok {
			dirty[p] = true // deletion staged
		}
	}
	untracked, err := scan.Untracked(ctx, root, tracked)
	if err != nil {
		return nil, err
	}
	for _, p := range untracked {
		dirty[p] = true
	}
	return dirty, nil
}

type heatTreeFile struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

// heatFlattenTree adds every non-folder entry below tree h to out.
func heatFlattenTree(repo *git.Repository, prefix string, h plumbing.Hash, out map[string]heatTreeFile) error {
	t, err := object.GetTree(repo.Storer, h)
	if err != nil {
		return fmt.Errorf("read tree %s: %w", h, err)
	}
	for _, e := range t.Entries {
		if e.Mode == filemode.Dir {
			if err := heatFlattenTree(repo, prefix+e.Name+"/", e.Hash, out); err != nil {
				return err
			}
			continue
		}
		out[prefix+e.Name] = heatTreeFile{e.Hash, e.Mode}
	}
	return nil
}

func heatCanonicalMode(m filemode.FileMode) filemode.FileMode {
	if m == filemode.Deprecated {
		return filemode.Regular
	}
	return m
}

// heatWorktreeDiffers reports whether the file on disk differs from index entry
// e: by stat data where it decides, else by content hash. Anything
// unreadable counts as changed. As in git, a file whose size and mtime match
// the index is clean unless the index is "racy" (not written strictly after
// the file's mtime), and then the content decides.
func heatWorktreeDiffers(root string, e *index.Entry, idx *index.Index, checkExec bool) bool {
	full := filepath.Join(root, filepath.FromSlash(e.Name))
	fi, err := os.Lstat(full)
	if err != nil {
		return true // deleted, or a folder on the way became a file
	}
	switch e.Mode {
	case filemode.Symlink:
		if fi.Mode()&fs.ModeSymlink == 0 {
			return true
		}
		target, err := os.Readlink(full)
		if err != nil {
			return true
		}
		return plumbing.ComputeHash(plumbing.BlobObject, []byte(filepath.ToSlash(target))) != e.Hash
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
		if !fi.Mode().IsRegular() {
			return true
		}
		if checkExec && (fi.Mode()&0o100 != 0) != (e.Mode == filemode.Executable) {
			return true
		}
		if uint32(fi.Size()) != e.Size {
			return true
		}
		mt := fi.ModTime()
		if mt.Equal(e.ModifiedAt) && !idx.ModTime.IsZero() && mt.Before(idx.ModTime) {
			return false
		}
		return !heatBlobHashEquals(full, fi.Size(), e.Hash)
	}
	return true
}

// heatBlobHashEquals reports whether the git blob hash of the file at full is
// want.
func heatBlobHashEquals(full string, size int64, want plumbing.Hash) bool {
	f, err := os.Open(full)
	if err != nil {
		return false
	}
	defer f.Close()
	h := plumbing.NewHasher(plumbing.BlobObject, size)
	n, err := io.Copy(h, f)
	return err == nil && n == size && h.Sum() == want
}
