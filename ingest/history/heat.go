package history

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"lore/config"
	"lore/ingest"
	"lore/ingest/scan"
)

// Defaults of HeatOptions.
const (
	DefaultHeatHalfLife   = 16
	DefaultHeatMaxCommits = 5000
)

// minHeat is the score below which an incremental update forgets a path
// (about 660 half-lives since its last change), so that paths deleted long
// ago do not stay in the cache for ever.
const minHeat = 1e-200

// HeatOptions tune LoadHeat.
type HeatOptions struct {
	// HalfLife is in commits: a change's weight halves every HalfLife
	// first-parent commits. 0 means DefaultHeatHalfLife.
	HalfLife int
	// Cache, when not nil, keeps the walk: key "heat/v1/<repo id>" holds
	// the commit the scores were computed at and the per-path scores, so a
	// later load only diffs the commits made since.
	Cache ingest.KV
	// MaxCommits caps a walk from scratch, and how far back an incremental
	// load looks for the cached commit. 0 means DefaultHeatMaxCommits.
	MaxCommits int
}

// Heat is how recently and how often each file changed: the order of the
// pack's base, coldest first.
type Heat struct {
	Head   string             // commit the scores are computed at ("" without commits)
	Scores map[string]float64 // path -> recency-weighted change count (committed history)
	Dirty  map[string]bool    // paths changed in the work tree vs HEAD (uncommitted, incl. untracked): hottest of all

	// Walked is how many commits this load diffed: the whole window when
	// computed from scratch, the new commits when updated from the cache, 0
	// when the cache was at HEAD already.
	Walked int
	// FromCache reports that the scores were the cached ones, or the cached
	// ones updated with the new commits.
	FromCache bool
	// CacheErr is a failure to read, decode or write the cache. It is not
	// fatal: the scores were computed without it and are right.
	CacheErr error
}

// LoadHeat computes the churn heat of the work tree at root (a work tree
// root, as scan.Scan takes).
//
// Score: walking HEAD's first-parent chain newest first (k = 0 for HEAD, at
// most MaxCommits commits), each path that commit k changed relative to its
// first parent (ChangedFiles) gains 0.5^(k/HalfLife). A merge counts once,
// as the change it made to the first parent; the commit at a shallow clone's
// boundary counts nothing, its changes being unknown.
//
// With a Cache, the scores at commit C are stored. When C is on HEAD's
// first-parent chain at distance d (found within MaxCommits), the new scores
// are old × 0.5^(d/HalfLife) plus the contributions of the d new commits:
// the old history is not walked again. Otherwise (history rewritten, another
// branch, a different HalfLife, an unreadable entry) they are computed from
// scratch. An updated score keeps the decayed contributions of commits that
// have since left the MaxCommits window; each is below 0.5^(MaxCommits /
// HalfLife) (3e-24 with the defaults), so this only matters with a small
// MaxCommits.
//
// Dirty is computed directly rather than with go-git's Worktree.Status,
// which took about 3 times as long on a 2,500-file tree, walks into ignored
// folders before filtering them, and ignores $GIT_DIR/info/exclude: HEAD's
// tree is compared with the index by hash (staged changes), each index entry
// with the file on disk by stat (size, mtime, executable bit unless
// core.fileMode is false, type) and, only when the stat data is not
// conclusive (another mtime, or an mtime not older than the index: git's
// "racy" case), by hashing the file; untracked files are the ones git
// lists (scan.Untracked: with git's ignore rules only, not lore's selection).
// Clean/smudge filters and CRLF conversion are not applied, so a file they
// rewrite can show as dirty. Entries marked skip-worktree and submodules are
// never dirty by their work tree; unmerged entries always are.
//
// A folder without .git gives an empty Heat (no scores, nothing dirty), not
// an error; a repository without commits has no scores and every file dirty.
func LoadHeat(ctx context.Context, root string, opts HeatOptions) (*Heat, error) {
	if opts.HalfLife <= 0 {
		opts.HalfLife = DefaultHeatHalfLife
	}
	if opts.MaxCommits <= 0 {
		opts.MaxCommits = DefaultHeatMaxCommits
	}
	abs, err := filepath.Abs(root)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("heat: %w", err)
	}
	h := &Heat{Scores: map[string]float64{}, Dirty: map[string]bool{}}
	repo, closeRepo, err := scan.OpenRepo(abs)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return h, nil
	} else if err != nil {
		return nil, fmt.Errorf("heat: %w", err)
	}
	defer closeRepo()

	var headTree plumbing.Hash
	ref, err := repo.Head()
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		// No commits yet: no history, everything is dirty.
	case err != nil:
		return nil, fmt.Errorf("heat: resolve HEAD of %s: %w", abs, err)
	default:
		head, err := repo.CommitObject(ref.Hash())
		if err != nil {
			return nil, fmt.Errorf("heat: read HEAD commit of %s: %w", abs, err)
		}
		h.Head = head.Hash.String()
		headTree = head.TreeHash
		if err := h.score(ctx, repo, head, heatKey(abs), opts); err != nil {
			return nil, fmt.Errorf("heat: %w", err)
		}
	}
	if h.Dirty, err = dirtyPaths(ctx, repo, abs, headTree); err != nil {
		return nil, fmt.Errorf("heat: %w", err)
	}
	return h, nil
}

// heatKey is the cache key of the work tree at root (absolute): one entry
// per checkout, so two worktrees on different branches do not evict each
// other's state.
func heatKey(root string) string { return "heat/v1/" + config.RepoID(root) }

// score fills h.Scores for head, from the cache where it can.
func (h *Heat) score(ctx context.Context, repo *git.Repository, head *object.Commit, key string, opts HeatOptions) error {
	var old *heatEntry
	if opts.Cache != nil {
		b, ok, err := opts.Cache.Get(key)
		switch {
		case err != nil:
			h.CacheErr = fmt.Errorf("read cache: %w", err)
		case ok:
			e, err := decodeHeat(b)
			if err != nil {
				h.CacheErr = fmt.Errorf("read cache: %w", err)
			} else if e.halfLife == opts.HalfLife {
				old = e
			}
		}
	}
	if old != nil && old.head == head.Hash {
		h.Scores, h.FromCache = old.scores, true
		return nil
	}

	// The new commits, newest first, up to the cached one if it is there.
	var chain []*object.Commit
	found := false
	err := walkFirstParents(repo, head.Hash, opts.MaxCommits, func(c *object.Commit) bool {
		if old != nil && c.Hash == old.head {
			found = true
			return false
		}
		chain = append(chain, c)
		return ctx.Err() == nil
	})
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	scores := make(map[string]float64)
	if found {
		f := math.Exp2(-float64(len(chain)) / float64(opts.HalfLife))
		for p, s := range old.scores {
			if v := s * f; v >= minHeat {
				scores[p] = v
			}
		}
		h.FromCache = true
	}
	differ := newHeatTreeDiffer(repo)
	for k, c := range chain {
		if err := ctx.Err(); err != nil {
			return err
		}
		var parentTree plumbing.Hash // zero: the root commit, compared with the empty tree
		if len(c.ParentHashes) > 0 {
			if k+1 < len(chain) {
				parentTree = chain[k+1].TreeHash
			} else {
				p, err := repo.CommitObject(c.ParentHashes[0])
				if errors.Is(err, plumbing.ErrObjectNotFound) {
					continue // shallow boundary: what it changed is unknown
				} else if err != nil {
					return fmt.Errorf("read commit %s: %w", c.ParentHashes[0], err)
				}
				parentTree = p.TreeHash
			}
		}
		files, err := differ.changed(parentTree, c.TreeHash)
		if err != nil {
			return fmt.Errorf("changed files of %s: %w", c.Hash, err)
		}
		w := math.Exp2(-float64(k) / float64(opts.HalfLife))
		for _, p := range files {
			scores[p] += w
		}
	}
	h.Scores, h.Walked = scores, len(chain)

	if opts.Cache != nil {
		e := &heatEntry{head: head.Hash, halfLife: opts.HalfLife, scores: scores}
		if err := opts.Cache.Put(key, e.encode()); err != nil {
			h.CacheErr = fmt.Errorf("write cache: %w", err)
		}
	}
	return nil
}

// Order returns the given paths ordered coldest first, hottest last: by
// score ascending (a path without a score is 0), dirty paths last and ordered
// among themselves by path, ties broken by path for determinism. The input
// is not modified. A nil Heat orders by path.
func (h *Heat) Order(paths []string) []string {
	type key struct {
		path  string
		dirty bool
		score float64
	}
	keys := make([]key, len(paths))
	for i, p := range paths {
		keys[i].path = p
		if h != nil {
			keys[i].dirty = h.Dirty[p]
			keys[i].score = h.Scores[p]
		}
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		if a.dirty != b.dirty {
			if a.dirty {
				return 1
			}
			return -1
		}
		if !a.dirty {
			if c := cmp.Compare(a.score, b.score); c != 0 {
				return c
			}
		}
		return strings.Compare(a.path, b.path)
	})
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.path
	}
	return out
}

// heatEntry is the cached state: the scores at one commit.
type heatEntry struct {
	head     plumbing.Hash
	halfLife int
	scores   map[string]float64
}

// encode writes: uvarint len(head), head bytes, uvarint halfLife, uvarint
// count, then count × (uvarint len(path), path, float64 bits little endian),
// sorted by path so equal states encode equally.
func (e *heatEntry) encode() []byte {
	paths := make([]string, 0, len(e.scores))
	size := 32
	for p := range e.scores {
		paths = append(paths, p)
		size += len(p) + 10
	}
	slices.Sort(paths)
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(e.head)))
	b = append(b, e.head[:]...)
	b = binary.AppendUvarint(b, uint64(e.halfLife))
	b = binary.AppendUvarint(b, uint64(len(paths)))
	for _, p := range paths {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.scores[p]))
	}
	return b
}

var errBadHeat = errors.New("malformed heat entry")

func decodeHeat(b []byte) (*heatEntry, error) {
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errBadHeat
		}
		b = b[n:]
		return v, nil
	}
	e := &heatEntry{}
	n, err := uv()
	if err != nil || n != uint64(len(e.head)) || len(b) < len(e.head) {
		return nil, errBadHeat
	}
	copy(e.head[:], b)
	b = b[len(e.head):]
	hl, err := uv()
	if err != nil || hl == 0 || hl > math.MaxInt32 {
		return nil, errBadHeat
	}
	e.halfLife = int(hl)
	count, err := uv()
	if err != nil || count > uint64(len(b))/9 {
		return nil, errBadHeat
	}
	e.scores = make(map[string]float64, count)
	for range count {
		l, err := uv()
		if err != nil || l > uint64(len(b)) || uint64(len(b))-l < 8 {
			return nil, errBadHeat
		}
		p := string(b[:l])
		v := math.Float64frombits(binary.LittleEndian.Uint64(b[l:]))
		b = b[l+8:]
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, errBadHeat
		}
		e.scores[p] = v
	}
	if len(b) != 0 {
		return nil, errBadHeat
	}
	return e, nil
}
