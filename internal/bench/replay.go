package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"lore/ingest"
	"lore/ingest/history"
	"lore/ingest/layout"
	"lore/ingest/scan"
)

// The freshness replay measures what keeping a prefix fresh costs on a real
// history: for each of the last N first-parent commits it counts the tokens
// that must be prefilled before the next question (foreground) and in all
// (foreground + the background rebuilds a policy triggers), each divided by
// the tokens of the files the commit changed. Exact-prefix orders are the
// baselines: alphabetical, and repomix's change-count order (files by how
// often the last 100 commits changed them, fewest first).

// freshnessResult is one policy's outcome over the replay.
type freshnessResult struct {
	Policy           string  `json:"policy"`
	ForegroundMedian float64 `json:"foreground_median"`  // median of foreground / changed tokens
	TotalRatio       float64 `json:"total_ratio"`        // sum of all prefilled / sum of changed tokens
	ForegroundRatio  float64 `json:"foreground_ratio"`   // sum of foreground / sum of changed tokens
	MaxStaleFraction float64 `json:"max_stale_fraction"` // of the pack, at any moment
	Rebuilds         int     `json:"rebuilds,omitempty"`
	// Where lore's total goes, each divided by the changed tokens: appending
	// to the overlay, warm-tier rebuilds, cold-base rebuilds.
	AppendRatio float64 `json:"append_ratio,omitempty"`
	WarmRatio   float64 `json:"warm_ratio,omitempty"`
	ColdRatio   float64 `json:"cold_ratio,omitempty"`
}

// freshnessReport is the replay's outcome.
type freshnessReport struct {
	Repo          string            `json:"repo"`
	Commits       int               `json:"commits"`
	PackTokens    int               `json:"pack_tokens"`    // at the start of the replay
	ChangedTokens int               `json:"changed_tokens"` // sum over the commits
	Results       []freshnessResult `json:"results"`
}

// freshnessOptions tune the replay.
type freshnessOptions struct {
	Commits  int            // commits replayed (default 200)
	Policy   layout.Policy  // lore's policy (zero: layout.DefaultPolicy)
	HalfLife int            // heat half-life in commits (default DefaultHeatHalfLife)
	Progress func(i, n int) // called after each commit
}

// deletionTokens is what a deletion marker costs.
const deletionTokens = 12

// fileVersion is one file of a tree in the replay.
type fileVersion struct {
	hash   string
	tokens int
}

// replayFreshness replays the last opts.Commits first-parent commits of the
// repository at path (a work tree or a bare repository).
func replayFreshness(ctx context.Context, path string, opts freshnessOptions) (*freshnessReport, error) {
	if opts.Commits <= 0 {
		opts.Commits = 200
	}
	if opts.Policy == (layout.Policy{}) {
		opts.Policy = layout.DefaultPolicy
	}
	if opts.HalfLife <= 0 {
		opts.HalfLife = history.DefaultHeatHalfLife
	}
	repo, closeRepo, err := openHistory(path)
	if err != nil {
		return nil, err
	}
	defer closeRepo()
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("%s has no commits to replay: %w", path, err)
	}
	// The replayed commits, plus older history to warm up heat and the
	// change counts, oldest first.
	const warmup = 400
	chain, err := history.FirstParentChain(repo, head.Hash(), opts.Commits+1+warmup)
	if err != nil {
		return nil, err
	}
	if len(chain) < 2 {
		return nil, errors.New("the repository needs at least two commits to replay")
	}
	slices.Reverse(chain)
	start := max(0, len(chain)-opts.Commits-1)

	tree, err := chain[start].Tree()
	if err != nil {
		return nil, err
	}
	state, err := treeFiles(tree)
	if err != nil {
		return nil, err
	}

	heat := map[string]float64{}
	decay := math.Pow(0.5, 1/float64(opts.HalfLife))
	var window [][]string // changed paths of the last 100 commits, for repomix's order
	counts := map[string]int{}
	record := func(paths []string) {
		for p := range heat {
			heat[p] *= decay
		}
		for _, p := range paths {
			heat[p]++
			counts[p]++
		}
		window = append(window, paths)
		if len(window) > 100 {
			for _, p := range window[0] {
				if counts[p]--; counts[p] == 0 {
					delete(counts, p)
				}
			}
			window = window[1:]
		}
	}
	for _, c := range chain[:start+1] {
		changed, err := history.ChangedFiles(repo, c)
		if err != nil {
			return nil, err
		}
		record(changed)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	heatOrder := func(paths []string) []string {
		out := slices.Clone(paths)
		sort.SliceStable(out, func(i, j int) bool {
			if heat[out[i]] != heat[out[j]] {
				return heat[out[i]] < heat[out[j]]
			}
			return out[i] < out[j]
		})
		return out
	}
	countOrder := func(paths []string) []string {
		out := slices.Clone(paths)
		sort.SliceStable(out, func(i, j int) bool {
			if counts[out[i]] != counts[out[j]] {
				return counts[out[i]] < counts[out[j]]
			}
			return out[i] < out[j]
		})
		return out
	}
	alphaOrder := func(paths []string) []string {
		out := slices.Clone(paths)
		slices.Sort(out)
		return out
	}

	var entries []layout.Entry
	for p, v := range state {
		entries = append(entries, layout.Entry{Path: p, Hash: v.hash, Tokens: v.tokens})
	}
	lay := layout.New(entries, heatOrder, opts.Policy)
	rep := &freshnessReport{Repo: path, Commits: len(chain) - 1 - start}
	for _, v := range state {
		rep.PackTokens += v.tokens
	}
	exact := []*exactPrefix{
		{trace: trace{name: "alphabetical"}, order: alphaOrder},
		{trace: trace{name: "repomix-change-count"}, order: countOrder},
	}
	for _, x := range exact {
		x.pack = x.layout(state)
	}
	lore := &trace{name: "lore"}
	lore.stale(lay.Stats().StaleFraction())

	for i := start + 1; i < len(chain); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := chain[i]
		paths, err := history.ChangedFiles(repo, c)
		if err != nil {
			return nil, err
		}
		ctree, err := c.Tree()
		if err != nil {
			return nil, err
		}
		var changes []layout.Entry
		changed := 0
		for _, p := range paths {
			v, ok, err := treeFile(ctree, p)
			if err != nil {
				return nil, err
			}
			old, had := state[p]
			switch {
			case ok && (!had || old.hash != v.hash):
				state[p] = v
				changes = append(changes, layout.Entry{Path: p, Hash: v.hash, Tokens: v.tokens})
				changed += v.tokens
			case !ok && had:
				delete(state, p)
				changes = append(changes, layout.Entry{Path: p, Deleted: true, Tokens: deletionTokens})
				changed += deletionTokens
			}
		}
		record(paths)
		rep.ChangedTokens += changed

		appended := lay.Update(changes)
		forced := lay.MustCompact()
		rb := lay.Compact(heatOrder)
		fg := appended
		if forced {
			fg += rb.Cost // the next question waits for this rebuild
		}
		lore.stale(lay.Stats().StaleFraction())
		if rb.Kind != "" {
			lore.rebuilds++
		}
		lore.appended += appended
		switch rb.Kind {
		case "warm":
			lore.warm += rb.Cost
		case "cold":
			lore.cold += rb.Cost
		}
		lore.add(fg, appended+rb.Cost, changed)
		for _, x := range exact {
			cost := x.update(state)
			x.add(cost, cost, changed)
		}
		if opts.Progress != nil {
			opts.Progress(i-start, len(chain)-1-start)
		}
	}
	rep.Results = append(rep.Results, lore.result())
	for _, x := range exact {
		rep.Results = append(rep.Results, x.result())
	}
	return rep, nil
}

// trace accumulates one policy's costs.
type trace struct {
	name               string
	fgRatios           []float64
	fg, total, changed int
	maxStale           float64
	rebuilds           int
	appended, warm     int
	cold               int
}

func (t *trace) add(fg, total, changed int) {
	t.fg += fg
	t.total += total
	t.changed += changed
	if changed > 0 {
		t.fgRatios = append(t.fgRatios, float64(fg)/float64(changed))
	}
}

func (t *trace) stale(f float64) { t.maxStale = max(t.maxStale, f) }

func (t *trace) result() freshnessResult {
	r := freshnessResult{Policy: t.name, MaxStaleFraction: t.maxStale, Rebuilds: t.rebuilds}
	if len(t.fgRatios) > 0 {
		s := slices.Clone(t.fgRatios)
		slices.Sort(s)
		r.ForegroundMedian = s[len(s)/2]
	}
	if t.changed > 0 {
		c := float64(t.changed)
		r.TotalRatio = float64(t.total) / c
		r.ForegroundRatio = float64(t.fg) / c
		r.AppendRatio, r.WarmRatio, r.ColdRatio = float64(t.appended)/c, float64(t.warm)/c, float64(t.cold)/c
	}
	return r
}

// exactPrefix is a baseline that keeps the prefix exact in a fixed order.
type exactPrefix struct {
	trace
	order layout.Order
	pack  []layout.Entry
}

func (x *exactPrefix) layout(state map[string]fileVersion) []layout.Entry {
	paths := make([]string, 0, len(state))
	for p := range state {
		paths = append(paths, p)
	}
	var out []layout.Entry
	for _, p := range x.order(paths) {
		out = append(out, layout.Entry{Path: p, Hash: state[p].hash, Tokens: state[p].tokens})
	}
	return out
}

// update lays the pack out again and returns the tokens from the first
// entry that differs to the end: what an exact prefix must prefill.
func (x *exactPrefix) update(state map[string]fileVersion) int {
	next := x.layout(state)
	i := 0
	for i < len(next) && i < len(x.pack) && next[i].Path == x.pack[i].Path && next[i].Hash == x.pack[i].Hash {
		i++
	}
	cost := 0
	for _, e := range next[i:] {
		cost += e.Tokens
	}
	x.pack = next
	return cost
}

// treeFiles lists the packable files of a tree (text, at most
// DefaultMaxFileSize) with their estimated tokens.
func treeFiles(tree *object.Tree) (map[string]fileVersion, error) {
	out := map[string]fileVersion{}
	err := tree.Files().ForEach(func(f *object.File) error {
		if v, ok, err := blobVersion(f); err != nil {
			return err
		} else if ok {
			out[f.Name] = v
		}
		return nil
	})
	return out, err
}

func treeFile(tree *object.Tree, path string) (fileVersion, bool, error) {
	f, err := tree.File(path)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return fileVersion{}, false, nil
	}
	if err != nil {
		return fileVersion{}, false, err
	}
	return blobVersion(f)
}

// blobVersion reads a blob and estimates its tokens; binary and oversized
// files are not packed and report false.
func blobVersion(f *object.File) (fileVersion, bool, error) {
	if !f.Mode.IsFile() || f.Size > scan.DefaultMaxFileSize {
		return fileVersion{}, false, nil
	}
	r, err := f.Reader()
	if err != nil {
		return fileVersion{}, false, err
	}
	defer r.Close()
	content, err := io.ReadAll(r)
	if err != nil {
		return fileVersion{}, false, err
	}
	if scan.IsBinary(content) {
		return fileVersion{}, false, nil
	}
	return fileVersion{hash: f.Hash.String(), tokens: ingest.EstimateTokens(string(content)) + headerTokens}, true, nil
}

// headerTokens is what a segment's path header and closing line cost.
const headerTokens = 16

// openHistory opens a work tree's repository, or a bare repository (the
// replay only needs history).
func openHistory(path string) (*git.Repository, func() error, error) {
	repo, closeRepo, err := scan.OpenRepo(path)
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		return repo, closeRepo, err
	}
	if _, serr := os.Stat(filepath.Join(path, "HEAD")); serr != nil {
		return nil, nil, fmt.Errorf("%s is neither a git work tree nor a bare repository", path)
	}
	st := filesystem.NewStorageWithOptions(osfs.New(path), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	repo, err = git.Open(st, nil)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("opening the bare repository %s: %w", path, err)
	}
	return repo, st.Close, nil
}
