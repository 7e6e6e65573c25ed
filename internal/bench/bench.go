// Package bench holds lore's benchmarks, run as lore bench NAME: the spine
// (cold, warm, restore and refill times of real daemons), the daemon (edits,
// restarts, parallel questions, branch switches), the engine's batching, the
// LSP bridge, packing against repomix, and the freshness replay of a
// repository's history. They are tools for measuring lore, not product
// commands; each starts from the same set-up (see begin).
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

const usage = `Usage:
  lore bench spine --model FILE [--repo DIR] [--runs N] [--json]
  lore bench freshness --repo DIR [--commits N] [--json]
  lore bench localize --repo DIR [--commits N] [--ctx N,N] [--model FILE] [--json]
  lore bench ingest --repo DIR [--repomix PATH] [--json]
  lore bench daemon --model FILE [--repo DIR] [--runs N] [--file PATH] [--json]
  lore bench lsp [--repo DIR] [--model FILE] [--runs N] [--json]
  lore bench batch --model FILE [--prefix N,N] [--questions N] [--json]
  lore bench faults --model FILE [--repo DIR] [--kills N] [--disk-mb N] [--json]
  lore bench hooks --model FILE [--repo DIR] [--commits N] [--interval D] [--json]
  lore bench apply [--repo DIR] [-n N] [--json]
  lore bench remote --model FILE --server PATH [--repo DIR] [--ctx N] [--runs N] [--json]

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

localize asks, for the last N qualifying first-parent commits (not a
merge, a message of at least 25 characters, 1 to 6 changed source files
that existed before), with the commit message as the question and the
parent checked out in a temporary worktree, whether the source files the
commit changed were in front of the model in full: in the pack the daemon
builds for each context size, or retrieved for the question. Baselines in
the same run: the prefix alone, BM25 within lore's retrieval room on top
of the prefix, and BM25 filling the whole context per question. The
retrieval room is fixed (engine.RetrievalRoom), not the daemon's allowance
sized by the machine's prefill speed and retrieval_latency, so results
compare across machines. Tokens are estimated without a model unless
--model is given.

daemon measures edit-to-fresh, restart, four questions at once and a
branch switch back on a private clone (see lore bench daemon --help).

batch measures the engine alone: questions answered together against one
by one after prefixes of several lengths, and the cost of sampling.

lsp measures the LSP bridge: from initialize to the first code action list,
and its overhead on the time to first token against the API client.

faults soaks real daemons: kills at random moments, damaged snapshots and
stores, a full disk; each restart must come back and answer (see lore bench
faults --help).

hooks measures the time lore's git hooks add to git commit, with and
without a daemon, the share of commits noted within 10 s and the time of a
commit-message draft (see lore bench hooks --help).

remote serves the same pack with the same model in process and from
llama-server on loopback: warm time to first token and restart to ready
(the server's slot restored), as ratios (see lore bench remote --help).

apply takes the last N non-merge commits of a repository (any branch
merged in; default: the one the command runs in, N 100), makes the SEARCH/REPLACE
blocks that turn each modified file of the parent into the commit's, and
applies each block, one at a time, exactly and perturbed as models get
them wrong (re-indented, spaces at line ends, a blank line added or left
out, unchanged lines elided with "...", sent for another file of the
commit), with lore's edit package and, as the baseline, with
git apply --recount of the same block as a one-hunk patch. It counts the
blocks applied at their place, refused, and applied at a wrong place.

ingest times 'lore pack --repo DIR' (a full pack with symbols) cold, with an empty
parse cache, and warm, and the same tree with repomix plain and --compress
when repomix is installed, with each run's peak resident memory.
`

// subUsage is the help of one benchmark: its usage line and its paragraph
// of the overview.
func subUsage(name string) string {
	var line, text string
	for _, l := range strings.Split(usage, "\n") {
		if strings.HasPrefix(l, "  lore bench "+name+" ") {
			line = strings.TrimSpace(l)
		}
	}
	for _, para := range strings.Split(usage, "\n\n") {
		if strings.HasPrefix(para, name+" ") {
			text = para
		}
	}
	return "Usage: " + line + "\n\n" + strings.TrimRight(text, "\n") + "\n"
}

// Names are the benchmarks, as lore bench NAME takes them.
var Names = []string{"spine", "freshness", "localize", "ingest", "daemon", "lsp", "batch", "faults", "hooks", "apply", "remote"}

// Run runs lore bench with its arguments (the benchmark's name first).
func Run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "freshness":
			return runFreshness(args[1:], stdout, stderr)
		case "localize":
			return runLocalize(args[1:], stdout, stderr)
		case "spine":
			return runSpine(args[1:], stdout, stderr)
		case "ingest":
			return runIngest(args[1:], stdout, stderr)
		case "daemon":
			return runDaemon(args[1:], stdout, stderr)
		case "lsp":
			return runLSP(args[1:], stdout, stderr)
		case "batch":
			return runBatch(args[1:], stdout, stderr)
		case "faults":
			return runFaults(args[1:], stdout, stderr)
		case "hooks":
			return runHooksBench(args[1:], stdout, stderr)
		case "apply":
			return runApplyBench(args[1:], stdout, stderr)
		case "remote":
			return runRemote(args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, usage)
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return nil
	}
	return cmdline.UsageErr("lore bench needs a benchmark name: spine, freshness, localize, ingest, daemon, lsp, batch, faults, hooks, apply, remote")
}

// setup is what every benchmark that runs lore starts from: the repository,
// a context that Ctrl-C and SIGTERM cancel, the lore binary to start daemons
// and lsp processes from and, for private daemons, a private folder (state,
// sockets, logs) with the model they load. The folder is removed after a
// successful run and kept, for its daemon logs, after a failed one.
type setup struct {
	ctx    context.Context
	cancel context.CancelFunc
	root   string // the repository, found as the other commands find it
	exe    string
	model  string // absolute; "" without a private folder
	dir    string // the private folder; "" without one
	stderr io.Writer
	ok     bool // the benchmark succeeded
}

// begin finds the repository root from repo and, when private names a
// folder prefix, makes a private folder for daemons that load model.
func begin(repo, private, model string, stderr io.Writer) (*setup, error) {
	root, err := config.FindRoot(repo)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	su := &setup{root: root, exe: exe, stderr: stderr}
	if private != "" {
		if su.model, err = filepath.Abs(model); err != nil {
			return nil, err
		}
		if su.dir, err = os.MkdirTemp("", private); err != nil {
			return nil, err
		}
	}
	su.ctx, su.cancel = cmdline.SignalContext()
	return su, nil
}

func (su *setup) close() {
	su.cancel()
	switch {
	case su.dir == "":
	case su.ok:
		os.RemoveAll(su.dir)
	default:
		fmt.Fprintf(su.stderr, "benchmark files kept in %s\n", su.dir)
	}
}

// cloneRepo clones the repository's committed tree into the private folder,
// for benchmarks that edit, commit or check out: the repository itself is
// never touched.
func (su *setup) cloneRepo() (string, error) {
	clone := filepath.Join(su.dir, "repo")
	if out, err := exec.CommandContext(su.ctx, "git", "clone", "-q", "--no-hardlinks", su.root, clone).CombinedOutput(); err != nil {
		return "", fmt.Errorf("cloning %s: %v\n%s", su.root, err, out)
	}
	return clone, nil
}

// vars are the environment of a private daemon: the private folder's state
// and sockets, and the model.
func (su *setup) vars() []string {
	return []string{
		config.EnvStateDir + "=" + filepath.Join(su.dir, "state"),
		config.EnvRuntime + "=" + filepath.Join(su.dir, "run"),
		config.EnvModel + "=" + su.model,
	}
}

// daemons returns controls for private daemons of a repository.
func (su *setup) daemons(root string) *privateDaemon {
	return &privateDaemon{exe: su.exe, root: root, dir: su.dir, env: append(os.Environ(), su.vars()...)}
}

// privateDaemon starts and stops daemons of one repository over a private
// folder.
type privateDaemon struct {
	exe, root, dir string
	env            []string
}

// state is the daemons' state folder.
func (b *privateDaemon) state() string { return filepath.Join(b.dir, "state") }

// start launches a daemon and returns a client once its socket answers.
func (b *privateDaemon) start(ctx context.Context) (*exec.Cmd, *api.Client, error) {
	cmd, err := b.launch()
	if err != nil {
		return nil, nil, err
	}
	for {
		if c, err := api.Dial(ctx, b.socket()); err == nil {
			return cmd, c, nil
		}
		if cmd.ProcessState != nil || ctx.Err() != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, nil, errors.New("the daemon did not start; see " + b.logPath())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// launch starts a daemon process, its output appended to the private log.
func (b *privateDaemon) launch() (*exec.Cmd, error) {
	cmd := exec.Command(b.exe, "daemon", "--repo", b.root)
	cmd.Env = b.env
	logf, err := os.OpenFile(b.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	return cmd, cmd.Start()
}

func (b *privateDaemon) logPath() string { return filepath.Join(b.dir, "daemon.log") }

// socket is where the benchmark's daemon listens.
func (b *privateDaemon) socket() string {
	return filepath.Join(b.dir, "run", filepath.Base(config.SocketPath(b.root)))
}

func (b *privateDaemon) stop(ctx context.Context, cmd *exec.Cmd, c *api.Client) error {
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

// timeToReady restarts the daemon, optionally without its snapshot, and
// times the start until the prefix is ready.
func (b *privateDaemon) timeToReady(ctx context.Context, dropSnapshot bool) (float64, error) {
	if dropSnapshot {
		matches, _ := filepath.Glob(filepath.Join(b.state(), "repos", "*", "snapshots", "*.kv"))
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
