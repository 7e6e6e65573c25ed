package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

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
	fs := cmdline.NewFlagSet("lore bench faults", faultsUsage, stdout)
	repo := fs.String("repo", "", "repository to clone and pack (default: the current directory's)")
	model := fs.String("model", "", "GGUF model (required; make a test one with: lore model synth --size tiny -o tiny.gguf)")
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

	clone, err := su.cloneRepo()
	if err != nil {
		return err
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
