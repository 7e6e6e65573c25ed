package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"lore/engine"
	"lore/ingest/scan"
	"lore/internal/cmdline"
)

const batchUsage = `Usage: lore bench batch --model FILE [--prefix 2000,12000] [--questions N] [--answer-tokens N] [--json] [engine flags]

Measures the engine alone (no daemon, no retrieval): after a prefix of each
given length, N short questions answered one after another, then at once
(the batcher decodes them together), with the ratio of the two times. It
also times one answer with greedy decoding, with sampling as lore does it
(top-k 40, top-p 0.95), and with top-p over the whole vocabulary.

The prefix is the repository's own source text (--repo), so that the
attention has real tokens to attend to. The context is sized to the longest
prefix plus one question's room (--ctx is not used); the other engine flags
apply.
`

type batchRun struct {
	PrefixTokens int     `json:"prefix_tokens"`
	SequentialMs float64 `json:"sequential_ms"`
	ConcurrentMs float64 `json:"concurrent_ms"`
	Ratio        float64 `json:"concurrent_over_sequential"`
	Rounds       int64   `json:"rounds"`    // batcher decodes in the concurrent run
	Steps        int64   `json:"steps"`     // question steps those decodes held
	TokenMs      float64 `json:"token_ms"`  // one question's decode time per token, sampled as lore does
	GreedyMs     float64 `json:"greedy_ms"` // the same, greedy
	NoTopKMs     float64 `json:"no_top_k_ms"`
}

type batchResult struct {
	Date         string     `json:"date"`
	Model        string     `json:"model"`
	Threads      int        `json:"threads"`
	Questions    int        `json:"questions"`
	AnswerTokens int        `json:"answer_tokens"`
	Runs         []batchRun `json:"runs"`
}

func runBatch(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench batch", batchUsage, stdout)
	cmdline.RegisterEngineFlags(fs)
	repo := fs.String("repo", "", "repository whose source text makes the prefix (default: the current directory's)")
	prefixes := fs.String("prefix", "2000,12000", "prefix lengths in tokens, comma-separated")
	questions := fs.Int("questions", 4, "questions answered one by one, then at once")
	answer := fs.Int("answer-tokens", 48, "tokens per answer")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cmdline.UsageErr("unexpected arguments %q", fs.Args())
	}
	var lens []int
	for _, f := range strings.Split(*prefixes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return cmdline.UsageErr("--prefix wants positive token counts separated by commas, not %q", *prefixes)
		}
		lens = append(lens, n)
	}
	if *questions < 1 || *answer < 1 {
		return cmdline.UsageErr("--questions and --answer-tokens must be positive")
	}
	su, err := begin(*repo, "", "", stderr)
	if err != nil {
		return err
	}
	defer su.close()
	ctx, root := su.ctx, su.root
	s, err := cmdline.Settings(fs, root)
	if err != nil {
		return err
	}
	cfg := engine.SettingsConfig(s)
	longest := slices.Max(lens)
	cfg.ContextSize = longest + max(1024, 2*(*answer+64)) // room for one question; the engine adds room for the others
	cfg.Sequences = *questions + 1
	fmt.Fprintf(stderr, "loading %s\n", cfg.ModelPath)
	e, err := engine.Open(cfg)
	if err != nil {
		return err
	}
	defer e.Close()

	text, err := sourceText(root, longest*8)
	if err != nil {
		return err
	}
	all := e.Tokenize(text)
	if len(all) < longest {
		return fmt.Errorf("the repository's source text gives %d tokens, fewer than the %d-token prefix asked for", len(all), longest)
	}
	qs := []string{"What does the daemon do?", "How is the pack laid out?", "Where are snapshots written?", "How does ask stream tokens?", "What does the watcher do?", "Which tests cover the engine?", "How are secrets left out?", "Where is retrieval done?"}
	res := batchResult{Date: time.Now().Format("2006-01-02"), Model: filepath.Base(cfg.ModelPath), Threads: cfg.Threads, Questions: *questions, AnswerTokens: *answer}
	gen := func(i int, topK int, temp float32) (engine.GenerateStats, error) {
		return e.Generate(ctx, engine.GenerateRequest{Prompt: e.Tokenize(qs[i%len(qs)]), MaxTokens: *answer, Temperature: temp, TopK: topK, Seed: uint32(i + 1)}, func(string) error { return nil })
	}
	perToken := func(topK int, temp float32) (float64, error) {
		t0 := time.Now()
		st, err := gen(0, topK, temp)
		if err != nil {
			return 0, err
		}
		return ms(time.Since(t0)) / float64(max(1, st.GeneratedTokens)), nil
	}
	for _, n := range lens {
		fmt.Fprintf(stderr, "prefix of %d tokens\n", n)
		if _, err := e.Sync(ctx, all[:n], nil); err != nil {
			return err
		}
		run := batchRun{PrefixTokens: n}
		if _, err := gen(0, 0, 0.8); err != nil { // warm up
			return err
		}
		if run.TokenMs, err = perToken(0, 0.8); err != nil {
			return err
		}
		if run.GreedyMs, err = perToken(0, 0); err != nil {
			return err
		}
		if run.NoTopKMs, err = perToken(-1, 0.8); err != nil {
			return err
		}
		t0 := time.Now()
		for i := range *questions {
			if _, err := gen(i, 0, 0.8); err != nil {
				return err
			}
		}
		run.SequentialMs = ms(time.Since(t0))
		b0 := e.BatchStats()
		t0 = time.Now()
		errs := make([]error, *questions)
		var wg sync.WaitGroup
		for i := range *questions {
			wg.Go(func() { _, errs[i] = gen(i, 0, 0.8) })
		}
		wg.Wait()
		run.ConcurrentMs = ms(time.Since(t0))
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		b1 := e.BatchStats()
		run.Rounds, run.Steps = b1.Rounds-b0.Rounds, b1.Steps-b0.Steps
		run.Ratio = run.ConcurrentMs / run.SequentialMs
		res.Runs = append(res.Runs, run)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%s, %d threads (0 = all cores), %d questions of up to %d tokens\n", res.Model, res.Threads, res.Questions, res.AnswerTokens)
	for _, r := range res.Runs {
		fmt.Fprintf(stdout, "prefix %6d: one by one %8.0f ms, at once %8.0f ms: %.2fx (%d steps in %d decodes); per token %.2f ms sampled, %.2f ms greedy, %.2f ms without top-k\n",
			r.PrefixTokens, r.SequentialMs, r.ConcurrentMs, r.Ratio, r.Steps, r.Rounds, r.TokenMs, r.GreedyMs, r.NoTopKMs)
	}
	return nil
}

// sourceText returns up to limit bytes of the repository's files, in scan
// order.
func sourceText(root string, limit int) (string, error) {
	res, err := scan.Scan(context.Background(), root, scan.Options{})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, f := range res.Files {
		if b.Len() >= limit {
			break
		}
		b.Write(f.Content)
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%s holds no source text to make a prefix of", root)
	}
	return b.String(), nil
}
