package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"lore/config"
	"lore/engine/remote"
	"lore/internal/cmdline"
)

// remoteResult holds lore bench remote's numbers: the same model and pack
// served in process and by llama-server on this machine, as ratios taken
// in one run.
type remoteResult struct {
	Date       string `json:"date"`
	Repo       string `json:"repo"`
	Model      string `json:"model"`
	Server     string `json:"server"`
	Context    int    `json:"context"`
	PackTokens int    `json:"pack_tokens"`
	Runs       int    `json:"runs"`

	// Warm time to first token on a ready daemon, and the network round
	// trip (GET /health, loopback here). Goal: remote within 1.2x of
	// local plus the round trip.
	LocalWarmMs  float64 `json:"local_warm_ttft_ms"`
	RemoteWarmMs float64 `json:"remote_warm_ttft_ms"`
	RoundTripMs  float64 `json:"round_trip_ms"`
	WarmRatio    float64 `json:"remote_warm_over_local_plus_rtt"`

	// Restart to ready: the daemon restarted with its snapshot (in
	// process: the KV file; remote: the server restarted too, its slot
	// restored from --slot-save-path) against a full re-prefill. Goal:
	// remote restore within 5% of a re-prefill.
	LocalRestoreMs   float64 `json:"local_restore_ready_ms"`
	LocalRefillMs    float64 `json:"local_refill_ready_ms"`
	LocalRestoreOver float64 `json:"local_restore_over_refill"`
	RemoteRestoreMs  float64 `json:"remote_restore_ready_ms"`
	RemoteRefillMs   float64 `json:"remote_refill_ready_ms"`
	RemoteRestoreOvr float64 `json:"remote_restore_over_refill"`
	RestoreRatio     float64 `json:"remote_restore_over_local_restore"`
}

const remoteUsage = `Usage: lore bench remote --model FILE --server PATH [--repo DIR] [--ctx N] [--runs N] [--json]

Serves the repository's pack with the same model twice on this machine:
in process, and by llama-server (started on loopback with --slot-save-path)
through engine = "remote"; reports as ratios in one run:
  warm     time to first token on a ready daemon, remote over in-process
           plus the round trip (GET /health)
  restart  daemon (and server) restarted to ready with the snapshot (the
           slot restored) over a full re-prefill, for both engines
`

func runRemote(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench remote", remoteUsage, stdout)
	repo := fs.String("repo", "", "repository to pack (default: the current directory's)")
	model := fs.String("model", "", "GGUF model (required; e.g. `lore model synth --size demo -o demo.gguf`)")
	server := fs.String("server", os.Getenv(config.EnvLlamaServer), "llama-server executable (make deps-server builds one; default $"+config.EnvLlamaServer+")")
	ctxSize := fs.Int("ctx", 16384, "context of both engines, in tokens")
	runs := fs.Int("runs", 3, "repetitions; medians are reported")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cmdline.UsageErr("--model is required")
	}
	if *server == "" {
		return cmdline.UsageErr("--server is required: %v", remote.ErrNoServer)
	}
	su, err := begin(*repo, "lore-bench-remote-", *model, stderr)
	if err != nil {
		return err
	}
	defer su.close()
	ctx := su.ctx
	res := remoteResult{Date: time.Now().Format("2006-01-02"), Repo: su.root, Model: su.model, Context: *ctxSize, Runs: *runs}

	slots := filepath.Join(su.dir, "slots")
	if err := os.Mkdir(slots, 0o755); err != nil {
		return err
	}
	srv, err := remote.StartServer(ctx, remote.ServerOptions{Binary: *server, Model: su.model, Context: *ctxSize, SaveDir: slots, LogFile: filepath.Join(su.dir, "server.log")})
	if err != nil {
		return err
	}
	defer srv.Stop()
	res.Server = srv.URL

	local := su.engineDaemons("local", *ctxSize)
	rem := su.engineDaemons("remote", *ctxSize, config.EnvEngine+"="+config.EngineRemote, config.EnvRemoteURL+"="+srv.URL)
	var lw, rw, rtt, lr, lf, rr, rf []float64
	for i := 0; i < *runs; i++ {
		fmt.Fprintf(stderr, "run %d/%d\n", i+1, *runs)
		os.RemoveAll(local.state())
		os.RemoveAll(rem.state())
		_, w, st, err := local.coldWarm(ctx)
		if err != nil {
			return fmt.Errorf("in process: %w", err)
		}
		lw = append(lw, w)
		res.PackTokens = st.PackTokens
		if err := srv.Restart(ctx); err != nil {
			return err
		}
		_, w, rst, err := rem.coldWarm(ctx)
		if err != nil {
			return fmt.Errorf("remote: %w", err)
		}
		if rst.PackTokens != st.PackTokens {
			return fmt.Errorf("the packs differ: %d tokens in process, %d remote", st.PackTokens, rst.PackTokens)
		}
		rw = append(rw, w)
		r, err := roundTrip(ctx, srv.URL)
		if err != nil {
			return err
		}
		rtt = append(rtt, r)

		ms, err := local.timeToReady(ctx, false)
		if err != nil {
			return fmt.Errorf("in process: %w", err)
		}
		lr = append(lr, ms)
		if ms, err = local.timeToReady(ctx, true); err != nil {
			return fmt.Errorf("in process: %w", err)
		}
		lf = append(lf, ms)

		// Remote: the server restarts too, so the slot comes back from
		// its save; then without the save nor the snapshot, a re-prefill.
		if err := srv.Restart(ctx); err != nil {
			return err
		}
		if ms, err = rem.timeToReady(ctx, false); err != nil {
			return fmt.Errorf("remote: %w", err)
		}
		rr = append(rr, ms)
		if err := srv.Restart(ctx); err != nil {
			return err
		}
		saves, _ := filepath.Glob(filepath.Join(slots, "*.bin"))
		for _, s := range saves {
			os.Remove(s)
		}
		if ms, err = rem.timeToReady(ctx, true); err != nil {
			return fmt.Errorf("remote: %w", err)
		}
		rf = append(rf, ms)
	}
	res.LocalWarmMs, res.RemoteWarmMs, res.RoundTripMs = median(lw), median(rw), median(rtt)
	res.WarmRatio = res.RemoteWarmMs / (res.LocalWarmMs + res.RoundTripMs)
	res.LocalRestoreMs, res.LocalRefillMs = median(lr), median(lf)
	res.RemoteRestoreMs, res.RemoteRefillMs = median(rr), median(rf)
	res.LocalRestoreOver = res.LocalRestoreMs / res.LocalRefillMs
	res.RemoteRestoreOvr = res.RemoteRestoreMs / res.RemoteRefillMs
	res.RestoreRatio = res.RemoteRestoreMs / res.LocalRestoreMs
	su.ok = true
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "pack %d tokens, context %d, %d runs (medians), server %s\n", res.PackTokens, res.Context, res.Runs, res.Server)
	fmt.Fprintf(stdout, "warm first token   in process %8.1f ms, remote %8.1f ms, round trip %.2f ms: remote = %.2fx (in process + round trip)\n", res.LocalWarmMs, res.RemoteWarmMs, res.RoundTripMs, res.WarmRatio)
	fmt.Fprintf(stdout, "restart to ready   in process %8.0f ms (%.2f%% of a re-prefill, %.0f ms)\n", res.LocalRestoreMs, 100*res.LocalRestoreOver, res.LocalRefillMs)
	fmt.Fprintf(stdout, "                   remote     %8.0f ms (%.2f%% of a re-prefill, %.0f ms), %.2fx in process\n", res.RemoteRestoreMs, 100*res.RemoteRestoreOvr, res.RemoteRefillMs, res.RestoreRatio)
	return nil
}

// engineDaemons are private daemons in a folder of their own under the
// benchmark's (state, sockets, log), with the context and extra settings.
func (su *setup) engineDaemons(name string, ctxSize int, extra ...string) *privateDaemon {
	dir := filepath.Join(su.dir, name)
	env := append(os.Environ(),
		config.EnvStateDir+"="+filepath.Join(dir, "state"),
		config.EnvRuntime+"="+filepath.Join(dir, "run"),
		config.EnvModel+"="+su.model,
		config.EnvContext+"="+strconv.Itoa(ctxSize),
	)
	os.MkdirAll(dir, 0o755)
	return &privateDaemon{exe: su.exe, root: su.root, dir: dir, env: append(env, extra...)}
}

// roundTrip is the median time of 20 GET /health requests.
func roundTrip(ctx context.Context, url string) (float64, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	var v []float64
	for range 20 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, errors.New("the server's /health answered " + resp.Status)
		}
		v = append(v, ms(time.Since(t0)))
	}
	return median(v), nil
}
