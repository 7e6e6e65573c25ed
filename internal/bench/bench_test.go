package bench_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lore/internal/testenv"
)

// run executes one of the built binaries in dir and returns stdout, stderr
// and the exit code.
func run(t *testing.T, vars []string, dir, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(testenv.Binaries(t), bin), args...)
	cmd.Env = vars
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestBenchBatch runs the engine benchmark on the tiny model: it must
// answer both ways and show the concurrent questions sharing decodes.
func TestBenchBatch(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	out, errOut, code := run(t, vars, repo, "lore", "bench", "batch", "--model", testenv.TinyModel(t), "--prefix", "100,300", "--questions", "3", "--answer-tokens", "6", "--json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	var res struct {
		Runs []struct {
			PrefixTokens int     `json:"prefix_tokens"`
			Ratio        float64 `json:"concurrent_over_sequential"`
			Rounds       int64   `json:"rounds"`
			Steps        int64   `json:"steps"`
			TokenMs      float64 `json:"token_ms"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(res.Runs) != 2 || res.Runs[0].PrefixTokens != 100 || res.Runs[1].PrefixTokens != 300 {
		t.Fatalf("runs: %+v", res.Runs)
	}
	for _, r := range res.Runs {
		if r.Ratio <= 0 || r.TokenMs <= 0 || r.Steps < 3 || r.Rounds >= r.Steps {
			t.Errorf("prefix %d: ratio %.2f, %d steps in %d decodes, %.2f ms a token", r.PrefixTokens, r.Ratio, r.Steps, r.Rounds, r.TokenMs)
		}
	}
	if _, errOut, code := run(t, vars, repo, "lore", "bench", "batch", "--model", testenv.TinyModel(t), "--prefix", "ten"); code != 2 || !strings.Contains(errOut, "--prefix") {
		t.Errorf("a bad --prefix: exit %d:\n%s", code, errOut)
	}
}

// TestBenchSpine runs the spine benchmark once on the tiny model: private
// daemons over a private folder, which goes after a successful run.
func TestBenchSpine(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	tmp := t.TempDir()
	vars = append(vars, "TMPDIR="+tmp)
	out, errOut, code := run(t, vars, repo, "lore", "bench", "spine", "--model", testenv.TinyModel(t), "--runs", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	var res struct {
		PackTokens int     `json:"pack_tokens"`
		ColdTTFTMs float64 `json:"cold_ttft_ms"`
		WarmTTFTMs float64 `json:"warm_ttft_ms"`
		RestoreMs  float64 `json:"restore_ready_ms"`
		RefillMs   float64 `json:"refill_ready_ms"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if res.PackTokens == 0 || res.ColdTTFTMs <= 0 || res.WarmTTFTMs <= 0 || res.RestoreMs <= 0 || res.RefillMs <= 0 {
		t.Errorf("spine: %+v", res)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "lore-bench-*")); len(left) > 0 {
		t.Errorf("the private folder was kept after a successful run: %v", left)
	}
	if _, errOut, code := run(t, vars, repo, "lore", "bench", "spine"); code != 2 || !strings.Contains(errOut, "--model is required") {
		t.Errorf("no --model: exit %d:\n%s", code, errOut)
	}
}

// TestBenchFaults runs a short fault soak on the tiny model: kills at random
// moments, each corruption, and (as root) a full tmpfs. Every restart must
// come back and answer, no damaged snapshot may be restored from, and no
// daemon may die on its own; the run exits 1 otherwise.
func TestBenchFaults(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	vars = append(vars, "TMPDIR="+t.TempDir())
	out, errOut, code := run(t, vars, repo, "lore", "bench", "faults", "--model", testenv.TinyModel(t), "--kills", "3", "--seed", "7", "--disk-mb", "32", "--json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	var res struct {
		Phases []struct {
			Name        string `json:"name"`
			Trials      int    `json:"trials"`
			Restarted   int    `json:"restarted"`
			Answered    int    `json:"answered"`
			Restored    int    `json:"restored_from_snapshot"`
			CorruptKept int    `json:"corrupt_kept"`
			Crashes     int    `json:"crashes"`
			Skipped     string `json:"skipped"`
		} `json:"phases"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(res.Phases) != 3 {
		t.Fatalf("phases: %+v", res.Phases)
	}
	for _, p := range res.Phases {
		if p.Skipped != "" {
			t.Logf("%s skipped: %s", p.Name, p.Skipped)
			continue
		}
		if p.Trials == 0 || p.Restarted != p.Trials || p.Answered != p.Trials || p.CorruptKept != 0 || p.Crashes != 0 {
			t.Errorf("%s: %+v", p.Name, p)
		}
	}
	if kill, corrupt := res.Phases[0], res.Phases[1]; kill.Trials != 3 || corrupt.Trials != 6 || corrupt.Restored == 0 {
		// The store's corruptions leave the snapshot whole: those restarts
		// restore from it.
		t.Errorf("kill %+v, corrupt %+v", kill, corrupt)
	}
	if _, errOut, code := run(t, vars, repo, "lore", "bench", "faults", "--model", testenv.TinyModel(t), "--ctx", "10"); code != 2 || !strings.Contains(errOut, "--ctx") {
		t.Errorf("a bad --ctx: exit %d:\n%s", code, errOut)
	}
}

// TestBenchRemote runs lore bench remote on the tiny model with a real
// llama-server: both engines answer, both restarts restore, and every
// ratio is reported.
func TestBenchRemote(t *testing.T) {
	server := testenv.LlamaServer(t)
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	out, errOut, code := run(t, vars, repo, "lore", "bench", "remote", "--model", testenv.TinyModel(t), "--server", server, "--ctx", "4096", "--runs", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	for _, k := range []string{"pack_tokens", "local_warm_ttft_ms", "remote_warm_ttft_ms", "round_trip_ms", "remote_warm_over_local_plus_rtt",
		"local_restore_over_refill", "remote_restore_over_refill", "remote_restore_over_local_restore"} {
		if v, ok := res[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v", k, res[k])
		}
	}
}
