package bench

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"lore/engine"
	"lore/internal/cmdline"
)

func runLocalize(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench localize", subUsage("localize"), stdout)
	repo := fs.String("repo", "", "repository with history: a work tree or a bare clone (required)")
	commits := fs.Int("commits", 40, "qualifying first-parent commits to measure")
	ctxs := fs.String("ctx", "32768,131072", "context sizes in tokens, comma-separated")
	model := fs.String("model", "", "count tokens with this GGUF model's tokenizer (default: an estimate without a model)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *repo == "" {
		return cmdline.UsageErr("--repo is required")
	}
	var contexts []int
	for _, f := range strings.Split(*ctxs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2048 {
			return cmdline.UsageErr("--ctx takes context sizes of at least 2048 tokens, comma-separated (e.g. 32768,131072); got %q", *ctxs)
		}
		contexts = append(contexts, n)
	}
	opts := localizeOptions{Commits: *commits, Contexts: contexts}
	if *model != "" {
		eng, err := engine.Open(engine.Config{ModelPath: *model, ContextSize: 512, Sequences: 1})
		if err != nil {
			return err
		}
		defer eng.Close()
		opts.Count, opts.Counter = memoCount(func(s string) int { return len(eng.Tokenize(s)) }), eng.Info().Name+" tokenizer"
		_, bos := eng.BOS()
		opts.NoBOS = !bos
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	prog := cmdline.NewProgress(stderr)
	opts.Progress = func(i, n int) { prog.Printf("measured commit %d/%d", i, n) }
	rep, err := benchLocalize(ctx, *repo, opts)
	prog.Clear()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(stdout)
	return nil
}

// memoCount remembers the counts of texts already counted: the same files
// are counted at every context size and commit.
func memoCount(count func(string) int) func(string) int {
	var mu sync.Mutex
	seen := map[[32]byte]int{}
	return func(s string) int {
		k := sha256.Sum256([]byte(s))
		mu.Lock()
		n, ok := seen[k]
		mu.Unlock()
		if !ok {
			n = count(s)
			mu.Lock()
			seen[k] = n
			mu.Unlock()
		}
		return n
	}
}

// summarize sums each method per context size.
func (rep *localizeReport) summarize(contexts []int) {
	for ci, n := range contexts {
		lc := localizeContext{Context: n, PackBudget: engine.PackBudget(n), RetrievalRoom: engine.RetrievalRoom(n, false)}
		for _, c := range rep.PerCommit {
			lc.PrefixTokens += float64(c.At[ci].PrefixTokens)
			lc.FullTokens += float64(c.At[ci].FullTokens)
		}
		lc.PrefixTokens /= float64(max(1, len(rep.PerCommit)))
		lc.FullTokens /= float64(max(1, len(rep.PerCommit)))
		for _, m := range localizeMethods {
			lm := localizeMethod{Method: m}
			for _, c := range rep.PerCommit {
				o := c.At[ci].Methods[m]
				lm.All.add(c, o)
				if c.Tests {
					lm.WithTests.add(c, o)
				} else {
					lm.NoTests.add(c, o)
				}
			}
			lm.All.finish()
			lm.WithTests.finish()
			lm.NoTests.finish()
			lc.Methods = append(lc.Methods, lm)
		}
		rep.Contexts = append(rep.Contexts, lc)
	}
}

func (s *localizeStats) add(c *localizeCommit, o localizeOutcome) {
	s.Commits++
	share := float64(len(o.Visible)) / float64(len(c.Files))
	s.Recall += share
	if len(o.Visible) == len(c.Files) {
		s.AllVisible++
	}
	s.QuestionTokens += float64(o.QuestionTokens)
	if len(o.Selected) == 0 && len(o.Excerpts) == 0 {
		s.NoneAdded++
	}
}

func (s *localizeStats) finish() {
	if s.Commits == 0 {
		return
	}
	n := float64(s.Commits)
	s.Recall /= n
	s.AllVisible /= n
	s.QuestionTokens /= n
	s.NoneAdded /= n
}

func (rep *localizeReport) print(w io.Writer) {
	fmt.Fprintf(w, "%s: %d commits (of %d first-parent commits looked at), %d files of %d tokens at the newest parent; tokens counted by %s; %.0f s\n",
		rep.Repo, rep.Commits, rep.LookedAt, rep.Files, rep.RepoTokens, rep.Counter, rep.Seconds)
	if rep.Unscanned > 0 {
		fmt.Fprintf(w, "%d of the changed files were left out by the scan (generated, vendored, too large, ignored): not visible to any method\n", rep.Unscanned)
	}
	for _, lc := range rep.Contexts {
		if len(lc.Methods) == 0 {
			continue
		}
		t, nt := lc.Methods[0].WithTests.Commits, lc.Methods[0].NoTests.Commits
		fmt.Fprintf(w, "\ncontext %d: pack budget %d, retrieval room %d (fixed: the whole room, not sized by this machine's prefill speed), prefix %.0f tokens (mean), %.0f of them files in full\n", lc.Context, lc.PackBudget, lc.RetrievalRoom, lc.PrefixTokens, lc.FullTokens)
		fmt.Fprintf(w, "%-15s %7s %8s %11s %10s | %-17s | %-17s\n", "method", "recall", "all vis", "tokens/q", "none added",
			fmt.Sprintf("tests (%d)", t), fmt.Sprintf("no tests (%d)", nt))
		for _, m := range lc.Methods {
			fmt.Fprintf(w, "%-15s %7.2f %8.2f %11.0f %9.0f%% | %7.2f %8.2f | %7.2f %8.2f\n", m.Method,
				m.All.Recall, m.All.AllVisible, m.All.QuestionTokens, 100*m.All.NoneAdded,
				m.WithTests.Recall, m.WithTests.AllVisible, m.NoTests.Recall, m.NoTests.AllVisible)
		}
	}
	fmt.Fprintln(w, "\nrecall: mean share of a commit's changed source files in full in front of the model; all vis: share of commits with all of them;")
	fmt.Fprintln(w, "tokens/q: prefilled per question on top of the cached prefix (bm25-whole-ctx has no prefix: it prefills everything per question)")
}
