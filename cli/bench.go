package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

const benchUsage = `Usage:
  lore bench spine --model FILE [--repo DIR] [--runs N] [--json]
  lore bench freshness --repo DIR [--commits N] [--json]
  lore bench ingest --dir DIR [--repomix PATH] [--json]
  lore bench daemon --model FILE [--repo DIR] [--runs N] [--file PATH] [--json]
  lore bench lsp [--repo DIR] [--model FILE] [--runs N] [--json]
  lore bench batch --model FILE [--prefix N,N] [--questions N] [--json]

spine measures, on real daemons over a private state folder, with ratios
taken in one run:
  cold    time from starting a daemon with no snapshot to the first answer
          token (model load + full prefill + question)
  warm    time to first token of a question on the ready daemon
  restore time from starting a daemon to ready when its snapshot is valid
  refill  time from starting a daemon to ready with the snapshot deleted
          (full re-prefill)

freshness replays the last N first-parent commits of a repository (a work
tree or a bare clone) and reports, for lore's tiered layout and for two
exact-prefix orders (alphabetical, repomix's change count), the tokens that
must be prefilled per commit divided by the tokens of the changed files:
the median in the foreground (before the next question can be answered) and
the total including background rebuilds, with the largest share of stale
(superseded) text the pack held.

daemon measures edit-to-fresh, restart, four questions at once and a
branch switch back on a private clone (see lore bench daemon --help).

batch measures the engine alone: questions answered together against one
by one after prefixes of several lengths, and the cost of sampling.

lsp measures the LSP bridge: from initialize to the first code action list,
and its overhead on the time to first token against the API client.

ingest times 'lore pack DIR' (a full pack with symbols) cold, with an empty
parse cache, and warm, and the same tree with repomix plain and --compress
when repomix is installed, with each run's peak resident memory.
`

type benchSpineResult struct {
	Date          string  `json:"date"`
	Repo          string  `json:"repo"`
	Model         string  `json:"model"`
	PackTokens    int     `json:"pack_tokens"`
	Runs          int     `json:"runs"`
	ColdTTFTMs    float64 `json:"cold_ttft_ms"`
	WarmTTFTMs    float64 `json:"warm_ttft_ms"`
	WarmOverCold  float64 `json:"warm_over_cold"`
	RestoreMs     float64 `json:"restore_ready_ms"`
	RefillMs      float64 `json:"refill_ready_ms"`
	RestoreOverRe float64 `json:"restore_over_refill"`
	SnapshotMiB   float64 `json:"snapshot_mib"`
}

func runBench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "freshness":
			return runBenchFreshness(args[1:], stdout, stderr)
		case "spine":
			return runBenchSpine(args[1:], stdout, stderr)
		case "ingest":
			return runBenchIngest(args[1:], stdout, stderr)
		case "daemon":
			return runBenchDaemon(args[1:], stdout, stderr)
		case "lsp":
			return runBenchLSP(args[1:], stdout, stderr)
		case "batch":
			return runBenchBatch(args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, benchUsage)
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return nil
	}
	return cmdline.UsageErr("lore bench needs a benchmark name: spine, freshness, ingest, daemon, lsp, batch")
}

func runBenchSpine(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench spine", benchUsage, stderr)
	repo := fs.String("repo", "", "repository to pack (default: the current directory's)")
	model := fs.String("model", "", "GGUF model (required; e.g. `lore model synth --size bench -o bench.gguf`)")
	runs := fs.Int("runs", 3, "repetitions; medians are reported")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cmdline.UsageErr("--model is required")
	}
	root, err := config.FindRoot(*repo)
	if err != nil {
		return err
	}
	bd, err := newBenchDir("lore-bench-", *model, stderr)
	if err != nil {
		return err
	}
	defer bd.close()
	b := bd.spine(root)

	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	res := benchSpineResult{Date: time.Now().Format("2006-01-02"), Repo: root, Model: bd.model, Runs: *runs}
	var cold, warm, restore, refill []float64
	for i := 0; i < *runs; i++ {
		fmt.Fprintf(stderr, "run %d/%d\n", i+1, *runs)
		os.RemoveAll(b.state)
		c, w, st, err := b.coldWarm(ctx)
		if err != nil {
			return err
		}
		cold, warm = append(cold, c), append(warm, w)
		res.PackTokens = st.PackTokens
		res.SnapshotMiB = float64(st.SnapshotBytes) / (1 << 20)
		r, err := b.timeToReady(ctx, false)
		if err != nil {
			return err
		}
		f, err := b.timeToReady(ctx, true)
		if err != nil {
			return err
		}
		restore, refill = append(restore, r), append(refill, f)
	}
	res.ColdTTFTMs, res.WarmTTFTMs = median(cold), median(warm)
	res.RestoreMs, res.RefillMs = median(restore), median(refill)
	bd.ok = true
	res.WarmOverCold = res.WarmTTFTMs / res.ColdTTFTMs
	res.RestoreOverRe = res.RestoreMs / res.RefillMs
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "pack %d tokens, snapshot %.1f MiB, %d runs (medians)\n", res.PackTokens, res.SnapshotMiB, res.Runs)
	fmt.Fprintf(stdout, "cold first token  %8.0f ms\nwarm first token  %8.1f ms  (%.2f%% of cold)\n", res.ColdTTFTMs, res.WarmTTFTMs, 100*res.WarmOverCold)
	fmt.Fprintf(stdout, "restart to ready  %8.0f ms  (%.2f%% of a full re-prefill, %.0f ms)\n", res.RestoreMs, 100*res.RestoreOverRe, res.RefillMs)
	return nil
}

// benchDir is a benchmark's private folder (state, sockets, logs) with the
// binary and model it runs. It is removed after a successful run and kept,
// for its daemon log, after a failed one.
type benchDir struct {
	exe, model, dir string
	stderr          io.Writer
	ok              bool
}

func newBenchDir(prefix, model string, stderr io.Writer) (*benchDir, error) {
	modelPath, err := filepath.Abs(model)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	return &benchDir{exe: exe, model: modelPath, dir: dir, stderr: stderr}, nil
}

func (b *benchDir) close() {
	if b.ok {
		os.RemoveAll(b.dir)
		return
	}
	fmt.Fprintf(b.stderr, "benchmark files kept in %s\n", b.dir)
}

// spine returns daemon controls for a repository, over the folder.
func (b *benchDir) spine(root string) *spineBench {
	return &spineBench{exe: b.exe, root: root, model: b.model, state: filepath.Join(b.dir, "state"), run: filepath.Join(b.dir, "run"), log: b.stderr}
}

type spineBench struct {
	exe, root, model, state, run string
	log                          io.Writer
}

func (b *spineBench) env() []string {
	return append(os.Environ(), config.EnvStateDir+"="+b.state, config.EnvRuntime+"="+b.run, config.EnvModel+"="+b.model)
}

// start launches a daemon and returns a client once its socket answers.
func (b *spineBench) start(ctx context.Context) (*exec.Cmd, *api.Client, error) {
	cmd := exec.Command(b.exe, "daemon", "--repo", b.root)
	cmd.Env = b.env()
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(b.state), "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	for {
		if c, err := api.Dial(ctx, b.socket()); err == nil {
			return cmd, c, nil
		}
		if cmd.ProcessState != nil || ctx.Err() != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, nil, errors.New("the daemon did not start; see " + logf.Name())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// socket is where the benchmark's daemon listens.
func (b *spineBench) socket() string {
	return filepath.Join(b.run, filepath.Base(config.SocketPath(b.root)))
}

func (b *spineBench) stop(ctx context.Context, cmd *exec.Cmd, c *api.Client) error {
	err := c.Shutdown(ctx)
	c.Close()
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = werr
	}
	return err
}

// waitDaemonReady polls the daemon until its first sync is done; often
// enough (5 ms) that benchmarks can time it.
func waitDaemonReady(ctx context.Context, c *api.Client) (*api.Status, error) {
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return nil, err
		}
		switch st.State {
		case api.StateReady:
			return st, nil
		case api.StateFailed:
			return nil, fmt.Errorf("the daemon failed: %s", st.Error)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// coldWarm starts a daemon without a snapshot and times the first answer
// token from the start (model load, full prefill, question), then a second
// question's first token on the ready daemon.
func (b *spineBench) coldWarm(ctx context.Context) (cold, warm float64, st *api.Status, err error) {
	t0 := time.Now()
	cmd, c, err := b.start(ctx)
	if err != nil {
		return 0, 0, nil, err
	}
	firstToken := func(since time.Time, q string) (float64, error) {
		var first time.Duration
		_, err := c.Ask(ctx, api.AskParams{Question: q, MaxTokens: 8}, func(string) {
			if first == 0 {
				first = time.Since(since)
			}
		}, nil)
		return ms(first), err
	}
	cold, err = firstToken(t0, "What does this repository do?")
	if err == nil {
		warm, err = firstToken(time.Now(), "Where is the pack built?")
	}
	if err == nil {
		st, err = waitDaemonReady(ctx, c)
	}
	if serr := b.stop(ctx, cmd, c); err == nil {
		err = serr
	}
	return cold, warm, st, err
}

// timeToReady restarts the daemon, optionally without its snapshot, and
// times the start until the prefix is ready.
func (b *spineBench) timeToReady(ctx context.Context, dropSnapshot bool) (float64, error) {
	if dropSnapshot {
		matches, _ := filepath.Glob(filepath.Join(b.state, "repos", "*", "snapshots", "*.kv"))
		if len(matches) == 0 {
			return 0, errors.New("no snapshot to drop: the previous daemon did not save one")
		}
		for _, m := range matches {
			os.Remove(m)
		}
	}
	t0 := time.Now()
	cmd, c, err := b.start(ctx)
	if err != nil {
		return 0, err
	}
	st, err := waitDaemonReady(ctx, c)
	d := ms(time.Since(t0))
	if err == nil && !dropSnapshot && st.PrefilledTokens != 0 {
		err = fmt.Errorf("restart prefilled %d tokens: the snapshot was not used", st.PrefilledTokens)
	}
	if serr := b.stop(ctx, cmd, c); err == nil {
		err = serr
	}
	return d, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
