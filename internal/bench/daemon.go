package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"lore/api"
	"lore/internal/cmdline"
)

// daemonResult holds the daemon benchmark's numbers; every goal is a
// ratio or a difference against a baseline measured in the same run.
type daemonResult struct {
	Date       string `json:"date"`
	Repo       string `json:"repo"`
	Model      string `json:"model"`
	PackTokens int    `json:"pack_tokens"`
	Runs       int    `json:"runs"`

	// A full prefill: start to ready without any snapshot.
	ColdReadyMs float64 `json:"cold_ready_ms"`

	// Edit-to-fresh for one saved file. Through a question: the first
	// token of a question asked right after the save, minus that of the
	// same question with nothing changed, against the time the daemon spent
	// prefilling the file's new segment. Through the watcher: save to
	// prefix fresh (no question), against the same prefill time.
	EditFile          string  `json:"edit_file"`
	EditTokens        int     `json:"edit_prefilled_tokens"`
	EditPrefillMs     float64 `json:"edit_prefill_ms"`
	EditAskMs         float64 `json:"edit_ask_extra_ttft_ms"`
	EditAskOverheadMs float64 `json:"edit_ask_overhead_ms"`
	EditWatchMs       float64 `json:"edit_watch_ms"`
	EditWatchOverMs   float64 `json:"edit_watch_overhead_ms"`
	// Each run's overheads, of which the two above are the medians.
	EditAskOverRuns   []float64 `json:"edit_ask_overhead_runs_ms"`
	EditWatchOverRuns []float64 `json:"edit_watch_overhead_runs_ms"`

	// Restart to ready with the snapshot, over the full prefill.
	RestartReadyMs float64 `json:"restart_ready_ms"`
	RestartOverRe  float64 `json:"restart_over_refill"`

	// Four questions at once vs one after another.
	Questions        int     `json:"questions"`
	AnswerTokens     int     `json:"answer_tokens"`
	SequentialMs     float64 `json:"sequential_ms"`
	SequentialTokens int     `json:"sequential_tokens"` // generated, all four answers
	ConcurrentTokens int     `json:"concurrent_tokens"`
	QuestionTokens   int     `json:"question_tokens"` // after the prefix (retrieved files included), four questions, one mode
	ConcurrentMs     float64 `json:"concurrent_ms"`
	ConcurrentOver   float64 `json:"concurrent_over_sequential"`
	// The engine's decodes during the concurrent run, and the question
	// steps they held.
	ConcurrentDecodes int64 `json:"concurrent_decodes"`
	ConcurrentSteps   int64 `json:"concurrent_steps"`

	// Back to a branch after a checkout of another one: the extra first
	// token time of the first question, over the full prefill.
	BranchFiles      int     `json:"branch_changed_files"`
	SwitchAwayTokens int     `json:"switch_away_prefilled_tokens"`
	SwitchBackMs     float64 `json:"switch_back_ms"`
	SwitchBackTokens int     `json:"switch_back_prefilled_tokens"`
	SwitchBackOverRe float64 `json:"switch_back_over_refill"`
}

const daemonUsage = `Usage: lore bench daemon --model FILE [--repo DIR] [--runs N] [--file PATH] [--json]

Measures the daemon on a private clone of the repository's committed tree
(the repository itself is never touched) with a private state folder:
  edit      one saved file until the prefix holds it, through a question
            and through the watcher, against that file's own prefill time
  restart   start to ready with the snapshot, against a full prefill
  parallel  four questions at once against the same four one by one
  branch    checkout of another branch and back: the first question's
            extra time on the way back, against a full prefill
`

func runDaemon(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench daemon", daemonUsage, stdout)
	repo := fs.String("repo", "", "repository to clone and pack (default: the current directory's)")
	model := fs.String("model", "", "GGUF model (required; make a test one with: lore model synth --size bench -o bench.gguf)")
	runs := fs.Int("runs", 3, "repetitions of the edit measurements; medians are reported")
	file := fs.String("file", "", "file of the repository to edit (default: the file closest to 4 KB the pack holds in full)")
	answer := fs.Int("answer-tokens", 96, "tokens per answer in the parallel measurement")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cmdline.UsageErr("--model is required")
	}
	if *runs < 1 || *answer < 1 {
		return cmdline.UsageErr("--runs and --answer-tokens must be positive")
	}
	su, err := begin(*repo, "lore-bench-daemon-", *model, stderr)
	if err != nil {
		return err
	}
	defer su.close()
	ctx, root := su.ctx, su.root

	clone, err := su.cloneRepo()
	if err != nil {
		return err
	}
	g := gitIn(ctx, clone)
	b := su.daemons(clone)
	res := daemonResult{Date: time.Now().Format("2006-01-02"), Repo: root, Model: su.model, Runs: *runs}

	// Full prefill.
	fmt.Fprintln(stderr, "cold start (full prefill)")
	t0 := time.Now()
	cmd, c, err := b.start(ctx)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped { // a failed measurement must not leave its daemon behind
			c.Close()
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	st, err := waitDaemonReady(ctx, c)
	if err != nil {
		return err
	}
	res.ColdReadyMs = ms(time.Since(t0))
	res.PackTokens = st.PackTokens
	if *file == "" {
		if *file, err = fullFile(g, clone, st); err != nil {
			return err
		}
	}
	res.EditFile = *file
	editPath := filepath.Join(clone, filepath.FromSlash(*file))
	original, err := os.ReadFile(editPath)
	if err != nil {
		return fmt.Errorf("--file %s: %w", *file, err)
	}

	firstToken := func(cl *api.Client, q string) (float64, *api.AskResult, error) {
		t := time.Now()
		var first time.Duration
		r, err := cl.Ask(ctx, api.AskParams{Question: q, MaxTokens: 1}, func(string) {
			if first == 0 {
				first = time.Since(t)
			}
		}, nil)
		return ms(first), r, err
	}
	const q = "Summarize what changed."
	if _, _, err := firstToken(c, q); err != nil { // warm the question path
		return err
	}

	// Edit-to-fresh, through a question and through the watcher.
	fmt.Fprintln(stderr, "edit to fresh")
	var askExtra, askOver, watchLat, watchOver, prefillMs []float64
	for i := 0; i < *runs; i++ {
		if err := waitIdle(ctx, c); err != nil {
			return err
		}
		base, _, err := firstToken(c, q)
		if err != nil {
			return err
		}
		edit := append(append([]byte(nil), original...), fmt.Sprintf("\n// bench edit %d (question)\n", i)...)
		if err := os.WriteFile(editPath, edit, 0o644); err != nil {
			return err
		}
		ttft, r, err := firstToken(c, q)
		if err != nil {
			return err
		}
		if st, err = c.Status(ctx); err != nil {
			return err
		}
		// The question refreshes the prefix itself, unless the watcher's
		// refresh got there first: then the question waited for that one.
		if st.PackVersion != r.PackVersion || st.LastPrefillTokens == 0 {
			return fmt.Errorf("the edit was not prefilled (pack %s, answer on %s)", st.PackVersion, r.PackVersion)
		}
		res.EditTokens = st.LastPrefillTokens
		prefillMs = append(prefillMs, st.LastPrefillMillis)
		askExtra = append(askExtra, ttft-base)
		askOver = append(askOver, ttft-base-st.LastPrefillMillis)

		// The watcher: no question, poll until the prefix holds the edit.
		if err := waitIdle(ctx, c); err != nil {
			return err
		}
		if st, err = c.Status(ctx); err != nil {
			return err
		}
		before := st.PackVersion
		edit = append(append([]byte(nil), original...), fmt.Sprintf("\n// bench edit %d (watcher)\n", i)...)
		saved := time.Now()
		if err := os.WriteFile(editPath, edit, 0o644); err != nil {
			return err
		}
		// The daemon says when the sync ended, so the poll can be slow
		// enough not to take the CPU from the prefill it waits for.
		for {
			if st, err = c.Status(ctx); err != nil {
				return err
			}
			if st.PackVersion != before && st.State == api.StateReady && st.KVTokens == st.PackTokens && st.LastPrefillAt.After(saved) {
				break
			}
			if time.Since(saved) > 5*time.Minute {
				return errors.New("the watcher did not bring the prefix up to date within 5 minutes")
			}
			time.Sleep(50 * time.Millisecond)
		}
		lat := ms(st.LastPrefillAt.Sub(saved))
		watchLat = append(watchLat, lat)
		watchOver = append(watchOver, lat-st.LastPrefillMillis)
		if err := os.WriteFile(editPath, original, 0o644); err != nil {
			return err
		}
		if _, _, err := firstToken(c, q); err != nil {
			return err
		}
	}
	res.EditPrefillMs, res.EditAskMs, res.EditAskOverheadMs = median(prefillMs), median(askExtra), median(askOver)
	res.EditWatchMs, res.EditWatchOverMs = median(watchLat), median(watchOver)
	res.EditAskOverRuns, res.EditWatchOverRuns = askOver, watchOver

	// Four questions at once vs one by one.
	fmt.Fprintln(stderr, "four questions: one by one, then at once")
	questions := []string{"Summarize the purpose of this repository.", "Which parts would you test first?", "List three risks in this design.", "What would you refactor first, and why?"}
	res.Questions, res.AnswerTokens = len(questions), *answer
	var genMu sync.Mutex
	generated, prompted := 0, 0
	askFull := func(cl *api.Client, q string) error {
		r, err := cl.Ask(ctx, api.AskParams{Question: q, MaxTokens: *answer, Temperature: 0.8, Seed: 1}, nil, nil)
		switch {
		case err != nil:
		case r.PrefilledTokens != 0:
			err = fmt.Errorf("a question prefilled %d pack tokens during the parallel measurement", r.PrefilledTokens)
		default:
			genMu.Lock()
			generated += r.GeneratedTokens
			prompted += r.PromptTokens - r.CachedTokens
			genMu.Unlock()
		}
		return err
	}
	if err := waitIdle(ctx, c); err != nil {
		return err
	}
	t0 = time.Now()
	for _, q := range questions {
		if err := askFull(c, q); err != nil {
			return err
		}
	}
	res.SequentialMs = ms(time.Since(t0))
	res.SequentialTokens, generated = generated, 0
	if err := waitIdle(ctx, c); err != nil {
		return err
	}
	clients := make([]*api.Client, len(questions))
	for i := range clients {
		if clients[i], err = api.Dial(ctx, b.socket()); err != nil {
			return err
		}
		defer clients[i].Close()
	}
	before, err := c.Status(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(questions))
	t0 = time.Now()
	for i, q := range questions {
		wg.Go(func() { errs[i] = askFull(clients[i], q) })
	}
	wg.Wait()
	res.ConcurrentMs = ms(time.Since(t0))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	res.ConcurrentTokens = generated
	if st, err = c.Status(ctx); err != nil {
		return err
	}
	res.ConcurrentDecodes, res.ConcurrentSteps = st.BatchDecodes-before.BatchDecodes, st.BatchSteps-before.BatchSteps
	res.QuestionTokens = prompted / 2 // both modes prompt the same
	res.ConcurrentOver = res.ConcurrentMs / res.SequentialMs

	// A branch with a few changed files, and back.
	fmt.Fprintln(stderr, "branch switch and back")
	base := strings.TrimSpace(g.out("rev-parse", "--abbrev-ref", "HEAD"))
	if err := g.err(); err != nil {
		return err
	}
	if err := waitIdle(ctx, c); err != nil {
		return err
	}
	st0, err := c.Status(ctx)
	if err != nil {
		return err
	}
	g.run("checkout", "-q", "-b", "lore-bench-branch")
	changed := []string{*file, "README.md", ".gitignore"}
	for _, f := range changed {
		p := filepath.Join(clone, filepath.FromSlash(f))
		old, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, append(old, "\n# changed on the benchmark's branch\n"...), 0o644); err != nil {
			return err
		}
	}
	g.run("commit", "-qam", "bench branch")
	if err := g.err(); err != nil {
		return err
	}
	res.BranchFiles = len(changed)
	// The switch away: its prefill (by the watcher or the question) and
	// any rebuild after it are done before the way back is timed.
	if _, _, err := firstToken(c, q); err != nil {
		return err
	}
	if err := waitIdle(ctx, c); err != nil {
		return err
	}
	st1, err := c.Status(ctx)
	if err != nil {
		return err
	}
	res.SwitchAwayTokens = st1.PrefilledTokens - st0.PrefilledTokens
	baseTTFT, _, err := firstToken(c, q)
	if err != nil {
		return err
	}
	if err := waitIdle(ctx, c); err != nil {
		return err
	}
	g.run("checkout", "-q", base)
	if err := g.err(); err != nil {
		return err
	}
	back, _, err := firstToken(c, q)
	if err != nil {
		return err
	}
	st2, err := c.Status(ctx)
	if err != nil {
		return err
	}
	res.SwitchBackMs = back - baseTTFT
	res.SwitchBackTokens = st2.PrefilledTokens - st1.PrefilledTokens
	res.SwitchBackOverRe = res.SwitchBackMs / res.ColdReadyMs
	stopped = true
	if err := b.stop(ctx, cmd, c); err != nil {
		return err
	}

	// Restart with the snapshot.
	fmt.Fprintln(stderr, "restart")
	if res.RestartReadyMs, err = b.timeToReady(ctx, false); err != nil {
		return err
	}
	res.RestartOverRe = res.RestartReadyMs / res.ColdReadyMs
	su.ok = true

	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "pack %d tokens; full prefill (start to ready) %.0f ms; medians of %d runs\n", res.PackTokens, res.ColdReadyMs, res.Runs)
	fmt.Fprintf(stdout, "edit %s: %d tokens prefilled in %.1f ms\n", res.EditFile, res.EditTokens, res.EditPrefillMs)
	fmt.Fprintf(stdout, "  through a question: +%.1f ms first token, %+.1f ms over the file's prefill\n", res.EditAskMs, res.EditAskOverheadMs)
	fmt.Fprintf(stdout, "  through the watcher: fresh %.1f ms after the save, %+.1f ms over the file's prefill\n", res.EditWatchMs, res.EditWatchOverMs)
	fmt.Fprintf(stdout, "restart to ready %.0f ms (%.2f%% of a full prefill)\n", res.RestartReadyMs, 100*res.RestartOverRe)
	fmt.Fprintf(stdout, "%d questions (%d prompt tokens after the prefix, retrieved files included), up to %d tokens each: one by one %.0f ms (%d tokens), at once %.0f ms (%d tokens; %d question steps in %d decodes): %.2fx\n",
		res.Questions, res.QuestionTokens, res.AnswerTokens, res.SequentialMs, res.SequentialTokens, res.ConcurrentMs, res.ConcurrentTokens, res.ConcurrentSteps, res.ConcurrentDecodes, res.ConcurrentOver)
	fmt.Fprintf(stdout, "branch with %d changed files: away prefilled %d tokens; back +%.0f ms first token, %d tokens prefilled (%.2f%% of a full prefill)\n",
		res.BranchFiles, res.SwitchAwayTokens, res.SwitchBackMs, res.SwitchBackTokens, 100*res.SwitchBackOverRe)
	return nil
}

// waitIdle waits until the daemon has been ready, with nothing to
// prefill and the same pack, for two seconds: background rebuilds must not
// land in a measurement.
func waitIdle(ctx context.Context, c *api.Client) error {
	var since time.Time
	version := ""
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		quiet := st.State == api.StateReady && st.Progress == nil && st.KVTokens == st.PackTokens && st.ActiveQuestions == 0
		switch {
		case !quiet || st.PackVersion != version:
			since, version = time.Time{}, st.PackVersion
		case since.IsZero():
			since = time.Now()
		case time.Since(since) >= 2*time.Second:
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the daemon did not settle within 10 minutes")
}

// fullFile picks the file to edit: the tracked file closest to 4 KB (a
// typical source file) that the pack holds in full, so that an edit changes
// the pack.
func fullFile(g *gitRunner, clone string, st *api.Status) (string, error) {
	omitted := map[string]bool{}
	for _, o := range st.Omitted {
		omitted[o.Path] = true
	}
	best, dist := "", int64(-1)
	for _, f := range strings.Split(g.out("ls-files"), "\n") {
		if f == "" || omitted[f] {
			continue
		}
		fi, err := os.Stat(filepath.Join(clone, filepath.FromSlash(f)))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if d := max(fi.Size()-4096, 4096-fi.Size()); dist < 0 || d < dist {
			best, dist = f, d
		}
	}
	if err := g.err(); err != nil {
		return "", err
	}
	if best == "" {
		return "", errors.New("no file of the pack is held in full: pass --file")
	}
	return best, nil
}

// gitRunner runs git in one folder and keeps the first error.
type gitRunner struct {
	ctx   context.Context
	dir   string
	first error
}

func gitIn(ctx context.Context, dir string) *gitRunner { return &gitRunner{ctx: ctx, dir: dir} }

func (g *gitRunner) out(args ...string) string {
	if g.first != nil {
		return ""
	}
	cmd := exec.CommandContext(g.ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=lore bench", "GIT_AUTHOR_EMAIL=bench@lore.invalid", "GIT_COMMITTER_NAME=lore bench", "GIT_COMMITTER_EMAIL=bench@lore.invalid")
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.first = fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (g *gitRunner) run(args ...string) { g.out(args...) }
func (g *gitRunner) err() error         { return g.first }
