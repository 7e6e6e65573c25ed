package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"lore/api"
	"lore/internal/cmdline"
)

type spineResult struct {
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

func runSpine(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench spine", subUsage("spine"), stdout)
	repo := fs.String("repo", "", "repository to pack (default: the current directory's)")
	model := fs.String("model", "", "GGUF model (required; make a test one with: lore model synth --size bench -o bench.gguf)")
	runs := fs.Int("runs", 3, "repetitions; medians are reported")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cmdline.UsageErr("--model is required")
	}
	su, err := begin(*repo, "lore-bench-", *model, stderr)
	if err != nil {
		return err
	}
	defer su.close()
	b := su.daemons(su.root)
	ctx := su.ctx
	res := spineResult{Date: time.Now().Format("2006-01-02"), Repo: su.root, Model: su.model, Runs: *runs}
	var cold, warm, restore, refill []float64
	for i := 0; i < *runs; i++ {
		fmt.Fprintf(stderr, "run %d/%d\n", i+1, *runs)
		os.RemoveAll(b.state())
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
	su.ok = true
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

// coldWarm starts a daemon without a snapshot and times the first answer
// token from the start (model load, full prefill, question), then a second
// question's first token on the ready daemon.
func (b *privateDaemon) coldWarm(ctx context.Context) (cold, warm float64, st *api.Status, err error) {
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
