// Package history reads a repository's git history: first-parent chains,
// the files each commit changed, and the churn heat that orders the pack's
// files coldest first (LoadHeat).
package history

import (
	"errors"
	"fmt"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// FirstParentChain returns up to n commits from head following first
// parents, newest first (head itself first). It stops early at the root
// commit and at a commit whose first parent is not in the object store (the
// boundary of a shallow clone). n <= 0 returns nothing.
func FirstParentChain(repo *git.Repository, head plumbing.Hash, n int) ([]*object.Commit, error) {
	var out []*object.Commit
	err := walkFirstParents(repo, head, n, func(c *object.Commit) bool {
		out = append(out, c)
		return true
	})
	return out, err
}

// walkFirstParents calls fn for up to n commits of head's first-parent
// chain, newest first, until fn returns false.
func walkFirstParents(repo *git.Repository, head plumbing.Hash, n int, fn func(*object.Commit) bool) error {
	if n <= 0 {
		return nil
	}
	c, err := repo.CommitObject(head)
	if err != nil {
		return fmt.Errorf("read commit %s: %w", head, err)
	}
	for i := 0; ; i++ {
		if !fn(c) || i+1 >= n || len(c.ParentHashes) == 0 {
			return nil
		}
		next, err := repo.CommitObject(c.ParentHashes[0])
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil // shallow boundary
		} else if err != nil {
			return fmt.Errorf("read commit %s: %w", c.ParentHashes[0], err)
		}
		c = next
	}
}

// ChangedFiles lists the paths a commit changed relative to its first
// parent, sorted: files added, modified (content or mode), deleted; a rename
// is a delete of the old path plus an add of the new one (no rename
// detection). The root commit lists all its files. A merge commit is compared
// with its first parent only, so it lists everything the merged branch
// brought in. Submodule entries count as files.
//
// Only tree objects are read: subtrees with equal hashes are skipped without
// being loaded, and no blob is read, so the cost is proportional to the
// number of changed folders, not to the size of the tree.
func ChangedFiles(repo *git.Repository, c *object.Commit) ([]string, error) {
	var parentTree plumbing.Hash
	if len(c.ParentHashes) > 0 {
		p, err := repo.CommitObject(c.ParentHashes[0])
		if err != nil {
			return nil, fmt.Errorf("changed files of %s: read parent: %w", c.Hash, err)
		}
		parentTree = p.TreeHash
	}
	return changedBetween(repo, parentTree, c.TreeHash)
}

// changedBetween lists the file paths that differ between two trees given by
// hash; plumbing.ZeroHash stands for the empty tree.
func changedBetween(repo *git.Repository, from, to plumbing.Hash) ([]string, error) {
	return newHeatTreeDiffer(repo).changed(from, to)
}

// heatTreeDiffer diffs trees by hash. It keeps the decoded trees of the
// previous diff, so that walking a chain of commits (where each diff shares
// one side with the next) decodes each tree about once.
type heatTreeDiffer struct {
	repo      *git.Repository
	out       []string
	cur, prev map[plumbing.Hash]*object.Tree
}

func newHeatTreeDiffer(repo *git.Repository) *heatTreeDiffer {
	return &heatTreeDiffer{repo: repo, cur: map[plumbing.Hash]*object.Tree{}}
}

// changed lists the paths that differ between trees from and to, sorted.
func (d *heatTreeDiffer) changed(from, to plumbing.Hash) ([]string, error) {
	d.prev, d.cur, d.out = d.cur, make(map[plumbing.Hash]*object.Tree, len(d.cur)), nil
	if err := d.diff("", from, to); err != nil {
		return nil, err
	}
	return d.out, nil
}

func (d *heatTreeDiffer) tree(h plumbing.Hash) (*object.Tree, error) {
	if h.IsZero() {
		return &object.Tree{}, nil
	}
	if t, ok := d.cur[h]; ok {
		return t, nil
	}
	t, ok := d.prev[h]
	if !ok {
		var err error
		if t, err = object.GetTree(d.repo.Storer, h); err != nil {
			return nil, fmt.Errorf("read tree %s: %w", h, err)
		}
	}
	d.cur[h] = t
	return t, nil
}

// diff appends the paths under prefix that differ between trees a and b.
// Entries are merged in git's tree order, so the output is sorted by path.
func (d *heatTreeDiffer) diff(prefix string, a, b plumbing.Hash) error {
	if a == b {
		return nil
	}
	ta, err := d.tree(a)
	if err != nil {
		return err
	}
	tb, err := d.tree(b)
	if err != nil {
		return err
	}
	ea, eb := ta.Entries, tb.Entries
	i, j := 0, 0
	for i < len(ea) || j < len(eb) {
		var c int
		switch {
		case i == len(ea):
			c = 1
		case j == len(eb):
			c = -1
		default:
			c = cmpTreeEntry(&ea[i], &eb[j])
		}
		switch {
		case c < 0:
			if err := d.all(prefix, &ea[i]); err != nil {
				return err
			}
			i++
		case c > 0:
			if err := d.all(prefix, &eb[j]); err != nil {
				return err
			}
			j++
		default:
			x, y := &ea[i], &eb[j]
			if x.Mode == filemode.Dir {
				if err := d.diff(prefix+x.Name+"/", x.Hash, y.Hash); err != nil {
					return err
				}
			} else if x.Hash != y.Hash || x.Mode != y.Mode {
				d.out = append(d.out, prefix+x.Name)
			}
			i++
			j++
		}
	}
	return nil
}

// all appends the paths of every file at or below entry e.
func (d *heatTreeDiffer) all(prefix string, e *object.TreeEntry) error {
	if e.Mode != filemode.Dir {
		d.out = append(d.out, prefix+e.Name)
		return nil
	}
	t, err := d.tree(e.Hash)
	if err != nil {
		return err
	}
	for k := range t.Entries {
		if err := d.all(prefix+e.Name+"/", &t.Entries[k]); err != nil {
			return err
		}
	}
	return nil
}

// cmpTreeEntry compares two entries in git's tree order: by name, where a
// folder's name sorts as if it ended in "/". A file and a folder of the same
// name are therefore different entries.
func cmpTreeEntry(a, b *object.TreeEntry) int {
	n := min(len(a.Name), len(b.Name))
	if c := strings.Compare(a.Name[:n], b.Name[:n]); c != 0 {
		return c
	}
	ca, cb := nameTail(a, n), nameTail(b, n)
	switch {
	case ca < cb:
		return -1
	case ca > cb:
		return 1
	}
	return 0
}

// nameTail is the byte of e's sort name at position n (just past the common
// prefix): the next name byte, '/' after a folder's name, or -1 at the end.
func nameTail(e *object.TreeEntry, n int) int {
	switch {
	case len(e.Name) > n:
		return int(e.Name[n])
	case e.Mode == filemode.Dir:
		return '/'
	}
	return -1
}
