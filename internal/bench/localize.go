package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	git "github.com/go-git/go-git/v5"

	"lore/config"
	"lore/engine"
	"lore/ingest"
	"lore/ingest/history"
	"lore/ingest/layout"
	"lore/ingest/pack"
	"lore/ingest/retrieve"
	"lore/ingest/scan"
	"lore/ingest/syntax"
)

// The localization benchmark asks, on a repository's real history, whether
// the files a change needed were in front of the model in full: for each
// of the last N qualifying first-parent commits, the commit message is the
// question, the source files the commit changed (as they were at its
// parent) are the files the answer needs, and the parent's tree, checked
// out, is the repository. lore's pack is built as the daemon builds it at
// start for each context size, and its retrieval runs on the message.

// The methods compared, in the order they are reported.
const (
	methodLore      = "lore"           // the prefix, plus lore's retrieval within its room
	methodPrefix    = "prefix"         // the prefix alone
	methodBM25Room  = "bm25-room"      // the prefix, plus BM25 over the same candidates within lore's room
	methodBM25Whole = "bm25-whole-ctx" // no prefix: BM25 over every file, filling the whole context per question
)

var localizeMethods = []string{methodLore, methodPrefix, methodBM25Room, methodBM25Whole}

// Which commits qualify.
const (
	localizeMinMessage = 25 // characters of the message, trimmed
	localizeMaxFiles   = 6  // changed source files that existed at the parent
	// localizeLookBack caps the first-parent commits looked at per
	// qualifying commit wanted.
	localizeLookBack = 50
)

// localizeOptions tune the benchmark.
type localizeOptions struct {
	Commits  int              // qualifying commits measured (default 40)
	Contexts []int            // context sizes in tokens (default 32768, 131072)
	Count    func(string) int // token counter (nil: ingest.EstimateTokens)
	Counter  string           // what counts tokens, for the report
	NoBOS    bool             // the model counting tokens has no BOS token
	Progress func(i, n int)
}

// localizeOutcome is one method's result for one commit at one context.
type localizeOutcome struct {
	Visible        []string `json:"visible"`            // the commit's files the model saw in full
	Selected       []string `json:"selected"`           // files added for the question, in full
	QuestionTokens int      `json:"question_tokens"`    // prefilled for this question on top of any prefix
	Excerpts       []string `json:"excerpts,omitempty"` // lore's: files retrieved only in part
}

// localizeAt is one commit at one context size.
type localizeAt struct {
	Context      int                        `json:"context"`
	PrefixTokens int                        `json:"prefix_tokens"` // BOS included
	FullTokens   int                        `json:"full_tokens"`   // of those, files in full
	FullFiles    int                        `json:"full_files"`    // files the prefix holds in full
	Methods      map[string]localizeOutcome `json:"methods"`
	full         []string                   // the files in full, sorted: for the tests
	retrieved    []string                   // what lore's retrieval placed before the question
}

// localizeCommit is one qualifying commit and what each method showed.
type localizeCommit struct {
	Commit  string   `json:"commit"`
	Subject string   `json:"subject"`
	Files   []string `json:"files"` // the changed source files that existed at the parent
	Tests   bool     `json:"tests"` // Files include a test file (scan.IsTestPath)
	// Unscanned are Files the scan left out (generated, vendored, too
	// large, ignored): no method can show them, and they count as not
	// visible for all.
	Unscanned []string     `json:"unscanned,omitempty"`
	At        []localizeAt `json:"at"`
	message   string
	parent    string
}

// localizeStats sum one method over a set of commits.
type localizeStats struct {
	Commits        int     `json:"commits"`
	Recall         float64 `json:"recall"`          // mean share of a commit's files visible in full
	AllVisible     float64 `json:"all_visible"`     // share of commits with every file visible in full
	QuestionTokens float64 `json:"question_tokens"` // mean tokens prefilled per question
	NoneAdded      float64 `json:"none_added"`      // share of questions that added no file
}

// localizeMethod is one method at one context size: over all commits,
// those whose files include tests, and the others.
type localizeMethod struct {
	Method    string        `json:"method"`
	All       localizeStats `json:"all"`
	WithTests localizeStats `json:"with_tests"`
	NoTests   localizeStats `json:"without_tests"`
}

// localizeContext is the summary at one context size.
type localizeContext struct {
	Context       int              `json:"context"`
	PackBudget    int              `json:"pack_budget"`    // engine.PackBudget
	RetrievalRoom int              `json:"retrieval_room"` // engine.RetrievalRoom, outside a session: fixed, not the daemon's speed-sized allowance, so runs compare across machines
	PrefixTokens  float64          `json:"prefix_tokens"`  // mean over the commits, BOS included
	FullTokens    float64          `json:"full_tokens"`    // mean tokens of the prefix's files in full
	Methods       []localizeMethod `json:"methods"`
}

// localizeReport is the benchmark's outcome.
type localizeReport struct {
	Repo       string            `json:"repo"`
	Counter    string            `json:"counter"` // what counted the tokens
	Commits    int               `json:"commits"`
	LookedAt   int               `json:"looked_at"`   // first-parent commits examined to find them
	Files      int               `json:"files"`       // scanned files at the newest parent
	RepoTokens int               `json:"repo_tokens"` // those files in full
	Unscanned  int               `json:"unscanned"`   // changed files the scan left out, over all commits
	Seconds    float64           `json:"seconds"`
	Contexts   []localizeContext `json:"contexts"`
	PerCommit  []*localizeCommit `json:"per_commit"`
}

// benchLocalize measures the last opts.Commits qualifying first-parent
// commits of the repository at path (a work tree or a bare repository).
func benchLocalize(ctx context.Context, path string, opts localizeOptions) (*localizeReport, error) {
	if opts.Commits <= 0 {
		opts.Commits = 40
	}
	if len(opts.Contexts) == 0 {
		opts.Contexts = []int{32768, 131072}
	}
	if opts.Count == nil {
		opts.Count, opts.Counter = ingest.EstimateTokens, localizeEstimate
	}
	start := time.Now()
	repo, closeRepo, err := openHistory(path)
	if err != nil {
		return nil, err
	}
	cases, looked, err := localizeCases(repo, opts.Commits)
	closeRepo()
	if err != nil {
		return nil, err
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("none of the last %d first-parent commits of %s qualifies (a non-merge commit with a message of at least %d characters changing 1 to %d source files that existed before it)", looked, path, localizeMinMessage, localizeMaxFiles)
	}
	wt, cleanup, err := addWorktree(ctx, path, cases[0].parent)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	settings, err := config.Load(wt)
	if err != nil {
		return nil, err
	}
	// One in-memory store stands for the daemon's badger: parse results by
	// content hash, and the heat walk, which the commits (oldest first)
	// extend forward as a daemon's does.
	kv := &memKV{m: map[string][]byte{}}
	so := scan.SettingsOptions(settings)
	so.Cache = kv
	policy := layout.SettingsPolicy(settings)
	idx := newBM25Index()
	rep := &localizeReport{Repo: path, Counter: opts.Counter, Commits: len(cases), LookedAt: looked, PerCommit: cases}
	for i, c := range cases {
		if err := gitRun(ctx, wt, "checkout", "-q", "-f", "--detach", c.parent); err != nil {
			return nil, err
		}
		res, err := scan.Scan(ctx, wt, so)
		if err != nil {
			return nil, err
		}
		heat, err := history.LoadHeat(ctx, wt, history.HeatOptions{Cache: kv})
		if err != nil {
			return nil, err
		}
		if heat.Head != c.parent || len(heat.Dirty) > 0 {
			return nil, fmt.Errorf("the temporary worktree %s is not a clean checkout of %s (HEAD %s, %d changed files)", wt, c.parent, heat.Head, len(heat.Dirty))
		}
		idx.reset(res.Files)
		byPath := make(map[string]*ingest.File, len(res.Files))
		for k := range res.Files {
			byPath[res.Files[k].Path] = &res.Files[k]
		}
		for _, f := range c.Files {
			if byPath[f] == nil {
				c.Unscanned = append(c.Unscanned, f)
				rep.Unscanned++
			}
		}
		for _, n := range opts.Contexts {
			at := measureAt(c, n, res, byPath, heat.Order, policy, idx, opts.Count)
			if opts.NoBOS {
				at.PrefixTokens--
			}
			c.At = append(c.At, at)
		}
		if i == len(cases)-1 {
			rep.Files = len(res.Files)
			for k := range res.Files {
				rep.RepoTokens += opts.Count(ingest.FileText(&res.Files[k]))
			}
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(cases))
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.summarize(opts.Contexts)
	return rep, nil
}

// localizeEstimate names the default counter in reports.
const localizeEstimate = "estimate (ingest.EstimateTokens, no model)"

// measureAt builds the daemon's pack of the scan for a context of n tokens
// (the budget, options and policy the daemon lays its prefix out with at
// start) and records what each method shows in full for the commit.
func measureAt(c *localizeCommit, n int, res *scan.Result, byPath map[string]*ingest.File, order layout.Order, policy layout.Policy, idx *bm25Index, count func(string) int) localizeAt {
	budget, room := engine.PackBudget(n), engine.RetrievalRoom(n, false)
	pk := pack.NewPacker(res, pack.PrefixOptions(res.Root, order, budget, count), policy)
	at := localizeAt{Context: n, PrefixTokens: 1, Methods: map[string]localizeOutcome{}} // 1: BOS
	full := map[string]bool{}
	for _, s := range pk.Pack().Segments {
		k := count(s.Text)
		at.PrefixTokens += k
		if s.Kind == ingest.KindFile || s.Kind == ingest.KindOverlay {
			full[s.Path] = true
			at.full = append(at.full, s.Path)
			at.FullTokens += k
		}
	}
	slices.Sort(at.full)
	at.FullFiles = len(at.full)
	reduced := pk.ReducedFiles()

	// lore: the daemon's retrieval on the message. A file it could only
	// excerpt is not in full.
	seg, paths := retrieve.Retrieve(c.message, reduced, room, count)
	at.retrieved = paths
	var inFull, excerpts []string
	for _, p := range paths {
		if f := byPath[p]; f != nil && strings.Contains(seg.Text, ingest.FileText(f)) {
			inFull = append(inFull, p)
		} else {
			excerpts = append(excerpts, p)
		}
	}
	used := 0
	if len(paths) > 0 {
		used = count(seg.Text)
	}
	lore := outcome(c.Files, full, inFull, used)
	lore.Excerpts = excerpts
	at.Methods[methodLore] = lore
	at.Methods[methodPrefix] = outcome(c.Files, full, nil, 0)

	sel, used := bm25Fill(idx.rank(c.message, reduced), room, count)
	at.Methods[methodBM25Room] = outcome(c.Files, full, sel, used)

	// The whole context per question: what lore's prefix and retrieval
	// may hold together, all of it prefilled for every question.
	all := make([]*ingest.File, len(res.Files))
	for k := range res.Files {
		all[k] = &res.Files[k]
	}
	sel, used = bm25Fill(idx.rank(c.message, all), budget+room, count)
	at.Methods[methodBM25Whole] = outcome(c.Files, nil, sel, used)
	return at
}

// outcome says which of files are in full in the prefix (full) or among
// those added for the question.
func outcome(files []string, full map[string]bool, added []string, tokens int) localizeOutcome {
	o := localizeOutcome{Selected: append([]string{}, added...), QuestionTokens: tokens, Visible: []string{}}
	for _, f := range files {
		if full[f] || slices.Contains(added, f) {
			o.Visible = append(o.Visible, f)
		}
	}
	return o
}

// localizeCases finds the last want qualifying first-parent commits,
// looking at most want*localizeLookBack back, and returns them oldest
// first with the number of commits looked at. A commit qualifies when it
// is not a merge, its message has at least localizeMinMessage characters,
// and it changes (adds, deletes or edits) at most localizeMaxFiles source
// files (a language with a grammar: syntax.Languages), at least one of
// which existed at its parent; those are the files its question needs.
// Other files it changes (documentation, change logs) do not count.
func localizeCases(repo *git.Repository, want int) ([]*localizeCommit, int, error) {
	head, err := repo.Head()
	if err != nil {
		return nil, 0, fmt.Errorf("the repository has no commits: %w", err)
	}
	chain, err := history.FirstParentChain(repo, head.Hash(), want*localizeLookBack)
	if err != nil {
		return nil, 0, err
	}
	langs := map[string]bool{}
	for _, l := range syntax.Languages() {
		langs[l] = true
	}
	var out []*localizeCommit
	looked := 0
	for _, c := range chain {
		if len(out) == want {
			break
		}
		looked++
		msg := strings.TrimSpace(c.Message)
		if len(c.ParentHashes) != 1 || utf8.RuneCountInString(msg) < localizeMinMessage {
			continue
		}
		changed, err := history.ChangedFiles(repo, c)
		if err != nil {
			return nil, 0, err
		}
		parent, err := repo.CommitObject(c.ParentHashes[0])
		if err != nil {
			return nil, 0, err
		}
		tree, err := parent.Tree()
		if err != nil {
			return nil, 0, err
		}
		source := 0
		var files []string
		for _, p := range changed {
			if !langs[syntax.DetectLang(p)] {
				continue
			}
			source++
			if e, err := tree.FindEntry(p); err == nil && e.Mode.IsFile() {
				files = append(files, p)
			}
		}
		if source > localizeMaxFiles || len(files) == 0 {
			continue
		}
		subject, _, _ := strings.Cut(msg, "\n")
		out = append(out, &localizeCommit{
			Commit: c.Hash.String(), Subject: subject, Files: files,
			Tests:   slices.ContainsFunc(files, scan.IsTestPath),
			message: msg, parent: c.ParentHashes[0].String(),
		})
	}
	slices.Reverse(out)
	return out, looked, nil
}

// addWorktree checks rev of the repository at path out in a temporary
// linked worktree and returns its root and how to remove it. The scan then
// reads a checkout, as the daemon does, git index and ignore rules
// included, rather than trees read from objects that only approximate it.
// The worktree has the repository's name (the pack's preamble shows it).
func addWorktree(ctx context.Context, path, rev string) (string, func(), error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "lore-localize-")
	if err != nil {
		return "", nil, err
	}
	wt := filepath.Join(dir, strings.TrimSuffix(filepath.Base(abs), ".git"))
	if err := gitRun(ctx, path, "worktree", "add", "-q", "--detach", wt, rev); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if wt, err = filepath.EvalSymlinks(wt); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return wt, func() {
		gitRun(context.Background(), path, "worktree", "remove", "--force", wt)
		os.RemoveAll(dir)
		gitRun(context.Background(), path, "worktree", "prune")
	}, nil
}

// gitRun runs git in dir with the repository's hooks off: a checkout must
// not run a post-checkout hook of the repository measured.
func gitRun(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "core.hooksPath=/dev/null", "-C", dir}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// memKV is an in-memory ingest.KV: the benchmark's stand-in for the
// daemon's badger store, holding the same records.
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *memKV) Get(key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return slices.Clone(v), ok, nil
}

func (k *memKV) Put(key string, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = slices.Clone(val)
	return nil
}
