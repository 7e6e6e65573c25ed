package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

const faultsUsage = `Usage: lore bench faults --model FILE [--repo DIR] [--kills N] [--seed N] [--ctx N] [--disk-mb N] [--json]

Soaks real daemons on a private clone of the repository (the repository
itself is never touched) with a private state folder, and reports how they
come back:
  kill     N times, a daemon is killed with SIGKILL at a random moment of its
           life (loading, prefilling, answering, writing its snapshot; a
           third of the starts have no snapshot, a third follow an edit),
           then started again
  corrupt  the snapshot truncated, its bytes flipped; the store's MANIFEST,
           tables and value logs overwritten: each time the daemon is
           started again
  disk     the state folder on a small tmpfs (needs root) filled up while
           the daemon answers and edits arrive, then freed
Each restart must come back ready and answer. A corrupt snapshot must not
be restored from, and the daemon must never die on its own (a crash). The
run exits 1 when any trial failed.
`

// faultTrial is one fault and what followed it.
type faultTrial struct {
	Phase     string `json:"phase"`
	Fault     string `json:"fault"`
	Restarted bool   `json:"restarted"` // came back ready
	Answered  bool   `json:"answered"`
	Restored  int    `json:"restored_tokens"`
	Prefilled int    `json:"prefilled_tokens"`
	// A damaged snapshot was restored from.
	CorruptKept bool `json:"corrupt_kept,omitempty"`
	// The store was moved aside (its caches lost) at the restart.
	StoreLost bool `json:"store_moved_aside,omitempty"`
	// The daemon died without being killed.
	Crashed bool   `json:"crashed,omitempty"`
	Error   string `json:"error,omitempty"`
}

func (t *faultTrial) ok() bool {
	return t.Restarted && t.Answered && !t.CorruptKept && !t.Crashed && t.Error == ""
}

// faultPhase sums up one phase's trials.
type faultPhase struct {
	Name        string `json:"name"`
	Trials      int    `json:"trials"`
	Restarted   int    `json:"restarted"`
	Answered    int    `json:"answered"`
	Restored    int    `json:"restored_from_snapshot"`
	StoresLost  int    `json:"stores_moved_aside"`
	CorruptKept int    `json:"corrupt_kept"`
	Crashes     int    `json:"crashes"`
	Skipped     string `json:"skipped,omitempty"`
}

type faultsResult struct {
	Date   string       `json:"date"`
	Repo   string       `json:"repo"`
	Model  string       `json:"model"`
	Seed   uint64       `json:"seed"`
	Phases []faultPhase `json:"phases"`
	Trials []faultTrial `json:"trials"`
}

func runFaults(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench faults", faultsUsage, stderr)
	repo := fs.String("repo", "", "repository to clone and pack (default: the current directory's)")
	model := fs.String("model", "", "GGUF model (required; e.g. `lore model synth --size tiny -o tiny.gguf`)")
	kills := fs.Int("kills", 20, "random kills in the kill phase")
	seed := fs.Uint64("seed", 0, "random seed (0: from the clock; printed for reruns)")
	ctxSize := fs.Int("ctx", 4096, "context size of the daemons, in tokens (small keeps the soak fast)")
	diskMB := fs.Int("disk-mb", 0, "size of the tmpfs for the disk phase in MiB (0: skip the phase)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cmdline.UsageErr("--model is required")
	}
	if *kills < 0 || *ctxSize < 256 || *diskMB < 0 {
		return cmdline.UsageErr("--kills and --disk-mb must not be negative, --ctx at least 256")
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	su, err := begin(*repo, "lore-bench-faults-", *model, stderr)
	if err != nil {
		return err
	}
	defer su.close()
	ctx := su.ctx

	clone := filepath.Join(su.dir, "repo")
	if out, err := exec.CommandContext(ctx, "git", "clone", "-q", "--no-hardlinks", su.root, clone).CombinedOutput(); err != nil {
		return fmt.Errorf("cloning %s: %v\n%s", su.root, err, out)
	}
	b := su.daemons(clone)
	b.env = append(b.env, config.EnvContext+"="+strconv.Itoa(*ctxSize))
	s := &soak{ctx: ctx, b: b, clone: clone, rng: rand.New(rand.NewPCG(*seed, *seed>>1|1)), log: stderr}
	res := faultsResult{Date: time.Now().Format("2006-01-02"), Repo: su.root, Model: su.model, Seed: *seed}
	fmt.Fprintf(stderr, "seed %d\n", *seed)

	// A clean first start: how long the daemon's life is, for the kills.
	fmt.Fprintln(stderr, "baseline: cold start and a question")
	t0 := time.Now()
	base := s.restart("baseline", "none")
	if !base.ok() {
		return fmt.Errorf("the daemon does not start and answer without faults: %s", base.Error)
	}
	life := time.Since(t0)
	if s.editFile, err = fullFile(gitIn(ctx, clone), clone, s.last); err != nil {
		return err
	}

	kill := faultPhase{Name: "kill"}
	for i := 0; i < *kills; i++ {
		fmt.Fprintf(stderr, "kill %d/%d\n", i+1, *kills)
		t := s.killTrial(i, life)
		res.Trials = append(res.Trials, t)
		kill.add(t)
	}
	res.Phases = append(res.Phases, kill)

	corrupt := faultPhase{Name: "corrupt"}
	for _, f := range corruptions {
		fmt.Fprintf(stderr, "corrupt: %s\n", f.name)
		t := s.corruptTrial(f)
		res.Trials = append(res.Trials, t)
		corrupt.add(t)
	}
	res.Phases = append(res.Phases, corrupt)

	disk := faultPhase{Name: "disk"}
	if *diskMB == 0 {
		disk.Skipped = "--disk-mb 0"
	} else {
		fmt.Fprintf(stderr, "disk: state folder on a %d MiB tmpfs\n", *diskMB)
		trials, skipped := s.diskTrials(filepath.Join(su.dir, "disk"), *diskMB)
		disk.Skipped = skipped
		for _, t := range trials {
			res.Trials = append(res.Trials, t)
			disk.add(t)
		}
	}
	res.Phases = append(res.Phases, disk)

	failed := 0
	for _, t := range res.Trials {
		if !t.ok() {
			failed++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printFaults(stdout, &res)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d fault trials failed (seed %d)", failed, len(res.Trials), *seed)
	}
	su.ok = true
	return nil
}

func (p *faultPhase) add(t faultTrial) {
	p.Trials++
	if t.Restarted {
		p.Restarted++
	}
	if t.Answered {
		p.Answered++
	}
	if t.Restored > 0 {
		p.Restored++
	}
	if t.StoreLost {
		p.StoresLost++
	}
	if t.CorruptKept {
		p.CorruptKept++
	}
	if t.Crashed {
		p.Crashes++
	}
}

func printFaults(w io.Writer, res *faultsResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\ttrials\trestarted\tanswered\trestored\tstores lost\tcorrupt kept\tcrashes")
	for _, p := range res.Phases {
		if p.Skipped != "" {
			fmt.Fprintf(tw, "%s\tskipped: %s\n", p.Name, p.Skipped)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", p.Name, p.Trials, p.Restarted, p.Answered, p.Restored, p.StoresLost, p.CorruptKept, p.Crashes)
	}
	tw.Flush()
	for _, t := range res.Trials {
		if !t.ok() {
			fmt.Fprintf(w, "FAILED %s (%s): restarted %v, answered %v, corrupt kept %v, crashed %v: %s\n",
				t.Phase, t.Fault, t.Restarted, t.Answered, t.CorruptKept, t.Crashed, t.Error)
		}
	}
	fmt.Fprintf(w, "seed %d\n", res.Seed)
}

// soak runs the trials on one clone and state folder.
type soak struct {
	ctx   context.Context
	b     *privateDaemon
	clone string
	rng   *rand.Rand
	log   io.Writer
	edits int
	// editFile is the file edits append to: one the pack holds in full, so
	// that an edit makes the next start prefill.
	editFile string
	last     *api.Status // the last restart's status once ready
}

// startTimeout bounds a restart: loading and a full prefill of the clone.
const startTimeout = 5 * time.Minute

// restart starts a daemon, waits until it is ready, asks one question and
// stops it cleanly, recording what it found.
func (s *soak) restart(phase, fault string) faultTrial {
	t := faultTrial{Phase: phase, Fault: fault}
	lostBefore := s.storesLost()
	ctx, cancel := context.WithTimeout(s.ctx, startTimeout)
	defer cancel()
	p, c, err := s.start(ctx)
	if err != nil {
		t.Error = err.Error()
		t.Crashed = p != nil && p.exited(time.Second)
		return t
	}
	defer p.kill()
	defer c.Close()
	st, err := waitDaemonReady(ctx, c)
	if err != nil {
		t.Error = "not ready: " + err.Error()
		t.Crashed = p.exited(time.Second)
		return t
	}
	t.Restarted = true
	t.Restored, t.Prefilled = st.RestoredTokens, st.PrefilledTokens
	s.last = st
	if _, err := c.Ask(ctx, api.AskParams{Question: "What does this repository do?", MaxTokens: 4, Seed: 1}, nil, nil); err != nil {
		t.Error = "ask: " + err.Error()
		t.Crashed = p.exited(time.Second)
		return t
	}
	t.Answered = true
	if err := p.stop(ctx, c); err != nil {
		t.Error = "stop: " + err.Error()
	}
	for _, p := range s.storesLost() {
		t.StoreLost = t.StoreLost || !slices.Contains(lostBefore, p)
	}
	return t
}

// start launches a daemon and dials it once its socket answers; the process
// comes back watched, so that a death is seen at once.
func (s *soak) start(ctx context.Context) (*proc, *api.Client, error) {
	cmd, err := s.b.launch()
	if err != nil {
		return nil, nil, err
	}
	p := watch(cmd)
	for {
		if c, err := api.Dial(ctx, s.b.socket()); err == nil {
			return p, c, nil
		}
		select {
		case <-p.done:
			return p, nil, fmt.Errorf("the daemon exited at start (%v); see %s", p.err, s.b.logPath())
		case <-ctx.Done():
			p.kill()
			return p, nil, fmt.Errorf("the daemon did not open its socket: %w; see %s", ctx.Err(), s.b.logPath())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// proc is a daemon process whose exit a goroutine waits for.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the exit, once done is closed
}

func watch(cmd *exec.Cmd) *proc {
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

// exited reports whether the process ends within d.
func (p *proc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// kill ends the process with SIGKILL (if it still runs) and reaps it.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// stop asks the daemon to shut down and waits for its exit, which must be
// clean.
func (p *proc) stop(ctx context.Context, c *api.Client) error {
	err := c.Shutdown(ctx)
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err == nil {
		err = p.err
	}
	return err
}

// storesLost lists the stores moved aside as corrupt that are on disk; the
// store keeps only the newest, so a new name, not a count, tells of a loss.
func (s *soak) storesLost() []string {
	m, _ := filepath.Glob(filepath.Join(s.b.state(), "repos", "*", "badger.corrupt-*"))
	return m
}

// snapshots lists the KV snapshot files of the state folder.
func (s *soak) snapshots() []string {
	m, _ := filepath.Glob(filepath.Join(s.b.state(), "repos", "*", "snapshots", "*.kv"))
	return m
}

// edit appends a line to a tracked file of the clone, so that the next
// start finds the tree changed since its snapshot.
func (s *soak) edit() error {
	s.edits++
	f, err := os.OpenFile(filepath.Join(s.clone, filepath.FromSlash(s.editFile)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "\nfault soak edit %d\n", s.edits)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// killTrial starts a daemon, kills it at a random moment of the span the
// baseline's whole life took (with a question in flight half the time),
// and restarts it.
func (s *soak) killTrial(i int, life time.Duration) faultTrial {
	setup := "snapshot"
	switch i % 3 {
	case 0:
		for _, p := range s.snapshots() {
			os.Remove(p)
		}
		setup = "no snapshot"
	case 1:
		if err := s.edit(); err != nil {
			return faultTrial{Phase: "kill", Fault: "edit", Error: err.Error()}
		}
		setup = "after an edit"
	}
	delay := time.Duration(s.rng.Int64N(int64(life)))
	asking := s.rng.IntN(2) == 0

	cmd, err := s.b.launch()
	if err != nil {
		return faultTrial{Phase: "kill", Fault: setup, Error: err.Error()}
	}
	p := watch(cmd)
	ctx, cancel := context.WithCancel(s.ctx)
	var wg sync.WaitGroup
	if asking {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.askWhenUp(ctx)
		}()
	}
	state := "no socket yet"
	select {
	case <-s.ctx.Done():
	case <-p.done:
	case <-time.After(delay):
	}
	if c, err := api.Dial(ctx, s.b.socket()); err == nil {
		sctx, scancel := context.WithTimeout(ctx, 200*time.Millisecond)
		if st, err := c.Status(sctx); err == nil {
			state = st.State
			if st.ActiveQuestions > 0 {
				state += ", answering"
			}
		}
		scancel()
		c.Close()
	}
	crashed := p.exited(0)
	p.kill()
	cancel()
	wg.Wait()
	fault := fmt.Sprintf("%s, killed at %s (%s)", setup, delay.Round(time.Millisecond), state)
	if crashed {
		return faultTrial{Phase: "kill", Fault: fault, Crashed: true, Error: fmt.Sprintf("the daemon died before the kill (%v)", p.err)}
	}
	return s.restart("kill", fault)
}

// askWhenUp asks questions until ctx ends, so that the kill can meet one
// in flight.
func (s *soak) askWhenUp(ctx context.Context) {
	for ctx.Err() == nil {
		c, err := api.Dial(ctx, s.b.socket())
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.Ask(ctx, api.AskParams{Question: "Where is the entry point?", MaxTokens: 8}, nil, nil)
		c.Close()
	}
}

// corruption damages the state a cleanly stopped daemon left.
type corruption struct {
	name     string
	snapshot bool // damages the snapshot: restoring from it is keeping corruption
	apply    func(s *soak) error
}

var corruptions = []corruption{
	{"snapshot truncated to half", true, func(s *soak) error {
		return s.eachSnapshot(func(p string, size int64) error { return os.Truncate(p, size/2) })
	}},
	{"snapshot bytes flipped in its middle", true, func(s *soak) error {
		return s.eachSnapshot(func(p string, size int64) error { return s.flip(p, size/2, 64) })
	}},
	{"snapshot trailer flipped", true, func(s *soak) error {
		return s.eachSnapshot(func(p string, size int64) error { return s.flip(p, size-8, 8) })
	}},
	{"store MANIFEST overwritten", false, func(s *soak) error {
		return s.eachStoreFile("MANIFEST", func(p string, size int64) error { return s.flip(p, 0, size) })
	}},
	{"store tables and value logs flipped", false, func(s *soak) error {
		err := s.eachStoreFile("*.sst", func(p string, size int64) error { return s.flip(p, size/2, 256) })
		if err != nil {
			return err
		}
		return s.eachStoreFile("*.vlog", func(p string, size int64) error { return s.flip(p, size/2, 256) })
	}},
	{"store files removed", false, func(s *soak) error {
		return s.eachStoreFile("*", func(p string, _ int64) error {
			if filepath.Base(p) == badgerLockName {
				return nil
			}
			return os.Remove(p)
		})
	}},
}

// badgerLockName is badger's own lock file, which a removal leaves.
const badgerLockName = "LOCK"

// corruptTrial makes sure a snapshot exists (a clean start and stop), damages
// the state, then restarts.
func (s *soak) corruptTrial(f corruption) faultTrial {
	if len(s.snapshots()) == 0 {
		if t := s.restart("corrupt", "set-up"); !t.ok() {
			t.Fault = f.name + " (set-up)"
			return t
		}
	}
	if err := f.apply(s); err != nil {
		return faultTrial{Phase: "corrupt", Fault: f.name, Error: err.Error()}
	}
	t := s.restart("corrupt", f.name)
	t.CorruptKept = f.snapshot && t.Restored > 0
	return t
}

func (s *soak) eachSnapshot(fn func(path string, size int64) error) error {
	snaps := s.snapshots()
	if len(snaps) == 0 {
		return errors.New("no snapshot to damage: the daemon did not save one when it stopped")
	}
	for _, p := range snaps {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if err := fn(p, fi.Size()); err != nil {
			return err
		}
	}
	return nil
}

func (s *soak) eachStoreFile(pattern string, fn func(path string, size int64) error) error {
	files, _ := filepath.Glob(filepath.Join(s.b.state(), "repos", "*", "badger", pattern))
	n := 0
	for _, p := range files {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
			continue
		}
		if err := fn(p, fi.Size()); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no store file matches %s", pattern)
	}
	return nil
}

// flip overwrites n bytes of the file at off with random bytes that differ
// from the ones they replace.
func (s *soak) flip(path string, off, n int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	off = max(0, min(off, fi.Size()-1))
	n = min(n, fi.Size()-off)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return err
	}
	for i := range buf {
		buf[i] ^= byte(1 + s.rng.IntN(255))
	}
	_, err = f.WriteAt(buf, off)
	return err
}

// diskTrials runs a daemon whose state folder is on a tmpfs of mb MiB: it is
// filled up while questions and edits arrive, then freed. It returns why the
// phase was skipped when the tmpfs cannot be mounted.
func (s *soak) diskTrials(dir string, mb int) ([]faultTrial, string) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err.Error()
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm,mode=0700", mb), "tmpfs", dir).CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("cannot mount a tmpfs (needs root): %v %s", err, strings.TrimSpace(string(out)))
	}
	defer exec.Command("umount", "-l", dir).Run()
	b := *s.b
	b.env = append(append([]string(nil), s.b.env...), config.EnvStateDir+"="+filepath.Join(dir, "state"))
	ds := &soak{ctx: s.ctx, b: &b, clone: s.clone, rng: s.rng, log: s.log, edits: s.edits, editFile: s.editFile}
	defer func() { s.edits = ds.edits }()

	full := ds.diskFull(dir)
	if !full.ok() {
		return []faultTrial{full}, ""
	}
	// Space is back: a clean stop above wrote what it could; a restart must
	// come back and answer, and a second stop must save the snapshot again.
	freed := ds.restart("disk", "space freed: restart")
	if freed.ok() && len(ds.snapshots()) == 0 {
		freed.Error = "no snapshot written once space returned"
	}
	return []faultTrial{full, freed}, ""
}

// diskFull fills the tmpfs under a ready daemon, asks and edits, checks it
// stays up and answers, then frees the space and stops it.
func (s *soak) diskFull(dir string) faultTrial {
	t := faultTrial{Phase: "disk", Fault: "file system full while answering and editing"}
	ctx, cancel := context.WithTimeout(s.ctx, startTimeout)
	defer cancel()
	p, c, err := s.start(ctx)
	if err != nil {
		t.Error = err.Error()
		return t
	}
	defer p.kill()
	defer c.Close()
	if _, err := waitDaemonReady(ctx, c); err != nil {
		t.Error = "not ready: " + err.Error()
		return t
	}
	t.Restarted = true
	filler := filepath.Join(dir, "filler")
	if err := fill(filler); err != nil {
		t.Error = "filling the tmpfs: " + err.Error()
		return t
	}
	for i := 0; i < 3; i++ {
		if err := s.edit(); err != nil {
			t.Error = err.Error()
			return t
		}
		if _, err := c.Ask(ctx, api.AskParams{Question: "What changed?", MaxTokens: 4, Seed: 1}, nil, nil); err != nil {
			t.Error = fmt.Sprintf("ask %d on a full disk: %v", i+1, err)
			t.Crashed = p.exited(time.Second)
			return t
		}
		// Let background snapshots and cache writes meet the full disk.
		time.Sleep(2 * time.Second)
	}
	if p.exited(0) {
		t.Crashed, t.Error = true, fmt.Sprintf("the daemon died on a full disk (%v)", p.err)
		return t
	}
	t.Answered = true
	os.Remove(filler)
	if err := s.edit(); err != nil {
		t.Error = err.Error()
		return t
	}
	if _, err := c.Ask(ctx, api.AskParams{Question: "And now?", MaxTokens: 4, Seed: 1}, nil, nil); err != nil {
		t.Error = "ask after space returned: " + err.Error()
		t.Answered = false
		return t
	}
	if err := p.stop(ctx, c); err != nil {
		t.Error = "stop: " + err.Error()
	}
	return t
}

// fill writes a file until the file system is full.
func fill(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
}
