package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

// hooksResult holds the hooks benchmark's numbers; the hooks' cost is a
// difference against plain commits measured in the same run.
type hooksResult struct {
	Date    string `json:"date"`
	Repo    string `json:"repo"`
	Model   string `json:"model"`
	Commits int    `json:"commits"` // per phase

	// Median time of `git commit -qam` without lore's hooks, with them and
	// no daemon, with them and a ready daemon; the added milliseconds and
	// the ratios are against the first.
	PlainMs          float64 `json:"plain_commit_ms"`
	NoDaemonMs       float64 `json:"hooks_no_daemon_commit_ms"`
	DaemonMs         float64 `json:"hooks_daemon_commit_ms"`
	AddedNoDaemonMs  float64 `json:"added_no_daemon_ms"`
	AddedDaemonMs    float64 `json:"added_daemon_ms"`
	RatioNoDaemon    float64 `json:"ratio_no_daemon"`
	RatioDaemon      float64 `json:"ratio_daemon"`
	IntervalMs       float64 `json:"interval_ms"`      // between the commits of the daemon phase
	NotesWithin10s   float64 `json:"notes_within_10s"` // share of the daemon phase's commits noted within 10 s
	NotesAtEnd       float64 `json:"notes_at_end"`     // share noted when the benchmark stopped waiting
	NoteMedianMs     float64 `json:"note_median_ms"`   // commit to note, over the notes that came
	DraftMs          float64 `json:"draft_ms"`         // median time of a commit/draft on the staged change
	DraftRuns        int     `json:"draft_runs"`       //
	DraftTokens      int     `json:"draft_generated"`  // tokens of the last draft
	HookTimeoutFitMs float64 `json:"default_hook_timeout_ms"`
}

const hooksUsage = `Usage: lore bench hooks --model FILE [--repo DIR] [--commits N] [--interval D] [--drafts N] [--json]

Measures lore's git hooks on a private clone of the repository (the
repository itself is never touched) with a private state folder:
  commits  the median time of git commit -qam (one line appended to a
           file) without lore's hooks, with them and no daemon, and with
           them and a ready daemon: the milliseconds the hooks add (goal:
           20 ms or less) and the ratios
  notes    the share of the daemon phase's commits whose summary note
           appeared within 10 s of the commit, the commits --interval apart
  draft    the time of a commit-message draft (the daemon's commit/draft,
           as prepare-commit-msg asks it) of a staged change
`

func runHooksBench(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench hooks", hooksUsage, stdout)
	repo := fs.String("repo", "", "repository to clone (default: the current directory's)")
	model := fs.String("model", "", "GGUF model (required)")
	commits := fs.Int("commits", 20, "commits per phase")
	interval := fs.Duration("interval", 2*time.Second, "time between the commits of the daemon phase")
	drafts := fs.Int("drafts", 3, "drafts timed; the median is reported")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cmdline.UsageErr("--model is required")
	}
	if *commits < 1 || *drafts < 1 || *interval < 0 {
		return cmdline.UsageErr("--commits and --drafts must be positive, --interval not negative")
	}
	su, err := begin(*repo, "lore-bench-hooks-", *model, stderr)
	if err != nil {
		return err
	}
	defer su.close()
	ctx := su.ctx
	clone, err := su.cloneRepo()
	if err != nil {
		return err
	}
	b := su.daemons(clone)
	g := gitIn(ctx, clone)
	res := hooksResult{Date: time.Now().Format("2006-01-02"), Repo: su.root, Model: su.model, Commits: *commits, DraftRuns: *drafts, IntervalMs: ms(*interval)}
	file := filepath.Join(clone, "lore-bench-hooks.txt")
	n := 0
	commit := func() (float64, string, error) {
		n++
		f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return 0, "", err
		}
		fmt.Fprintf(f, "line %d\n", n)
		f.Close()
		g.out("add", file)
		if err := g.err(); err != nil {
			return 0, "", err
		}
		cmd := exec.CommandContext(ctx, "git", "commit", "-qm", fmt.Sprintf("bench commit %d", n))
		cmd.Dir = clone
		cmd.Env = append(b.env, "GIT_AUTHOR_NAME=lore bench", "GIT_AUTHOR_EMAIL=bench@lore.invalid", "GIT_COMMITTER_NAME=lore bench", "GIT_COMMITTER_EMAIL=bench@lore.invalid")
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		d := ms(time.Since(t0))
		if err != nil {
			return 0, "", fmt.Errorf("git commit: %v\n%s", err, out)
		}
		return d, strings.TrimSpace(g.out("rev-parse", "HEAD")), g.err()
	}
	phase := func(name string, gap time.Duration, each func(hash string, at time.Time)) (float64, error) {
		fmt.Fprintf(stderr, "%d commits %s\n", *commits, name)
		var times []float64
		for i := 0; i < *commits; i++ {
			at := time.Now()
			d, hash, err := commit()
			if err != nil {
				return 0, err
			}
			times = append(times, d)
			if each != nil {
				each(hash, at)
			}
			if gap > 0 && i < *commits-1 {
				time.Sleep(gap)
			}
		}
		return median(times), nil
	}

	if res.PlainMs, err = phase("without lore's hooks", 0, nil); err != nil {
		return err
	}
	install := exec.CommandContext(ctx, su.exe, "hook", "install")
	install.Dir, install.Env = clone, b.env
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("lore hook install: %v\n%s", err, out)
	}
	if res.NoDaemonMs, err = phase("with lore's hooks, no daemon", 0, nil); err != nil {
		return err
	}

	cmd, c, err := b.start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		c.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if _, err := waitDaemonReady(ctx, c); err != nil {
		return err
	}
	committed := map[string]time.Time{}
	var order []string
	if res.DaemonMs, err = phase("with lore's hooks and a ready daemon", *interval, func(h string, at time.Time) {
		committed[h] = at
		order = append(order, h)
	}); err != nil {
		return err
	}
	// Notes: poll until every commit has one or 10 s passed since the last.
	noted := map[string]time.Time{}
	deadline := committed[order[len(order)-1]].Add(10 * time.Second)
	for len(noted) < len(order) && time.Now().Before(deadline) {
		// git notes list fails until the first note exists.
		list, _ := exec.CommandContext(ctx, "git", "-C", clone, "notes", "--ref="+api.NotesRef, "list").Output()
		for _, line := range strings.Split(string(list), "\n") {
			if _, h, ok := strings.Cut(line, " "); ok {
				if _, mine := committed[h]; mine && noted[h].IsZero() {
					noted[h] = time.Now()
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var lags []float64
	within := 0
	for h, at := range noted {
		lag := at.Sub(committed[h])
		lags = append(lags, ms(lag))
		if lag <= 10*time.Second {
			within++
		}
	}
	res.NotesWithin10s = float64(within) / float64(len(order))
	res.NotesAtEnd = float64(len(noted)) / float64(len(order))
	if len(lags) > 0 {
		res.NoteMedianMs = median(lags)
	}

	// Drafts of a staged change, as prepare-commit-msg asks for them.
	fmt.Fprintf(stderr, "%d drafts\n", *drafts)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "a staged line for the draft\n")
	f.Close()
	g.out("add", file)
	if err := g.err(); err != nil {
		return err
	}
	var dts []float64
	for i := 0; i < *drafts; i++ {
		t0 := time.Now()
		d, err := c.DraftCommit(ctx, api.DraftParams{}, nil, nil)
		if err != nil {
			return fmt.Errorf("draft: %w", err)
		}
		dts = append(dts, ms(time.Since(t0)))
		res.DraftTokens = d.GeneratedTokens
	}
	res.DraftMs = median(dts)
	res.HookTimeoutFitMs = ms(config.DefaultHookTimeout)
	res.AddedNoDaemonMs = res.NoDaemonMs - res.PlainMs
	res.AddedDaemonMs = res.DaemonMs - res.PlainMs
	res.RatioNoDaemon = res.NoDaemonMs / res.PlainMs
	res.RatioDaemon = res.DaemonMs / res.PlainMs
	su.ok = true
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "git commit -qam, median of %d: %.1f ms plain; with lore's hooks %.1f ms without a daemon (%+.1f ms, %.2fx), %.1f ms with a ready daemon (%+.1f ms, %.2fx)\n",
		res.Commits, res.PlainMs, res.NoDaemonMs, res.AddedNoDaemonMs, res.RatioNoDaemon, res.DaemonMs, res.AddedDaemonMs, res.RatioDaemon)
	fmt.Fprintf(stdout, "summary notes: %.0f%% of the commits (%.1f s apart) noted within 10 s, %.0f%% by the end; median %.0f ms from commit to note\n",
		100*res.NotesWithin10s, res.IntervalMs/1000, 100*res.NotesAtEnd, res.NoteMedianMs)
	fmt.Fprintf(stdout, "draft of a staged change: median %.0f ms of %d (%d tokens); hook_timeout's default is %.0f ms\n", res.DraftMs, res.DraftRuns, res.DraftTokens, res.HookTimeoutFitMs)
	return nil
}
