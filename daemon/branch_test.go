package daemon_test

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lore/config"
	"lore/internal/testenv"
)

func (e *env) git(args ...string) {
	e.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = e.repo
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// TestBranchSwitchBack: each branch keeps its own snapshot, so switching
// back to a branch restores its prefix instead of prefilling it again.
func TestBranchSwitchBack(t *testing.T) {
	e := newEnv(t)
	e.vars = append(e.vars, config.EnvWatch+"=off") // each question notices the switch
	base := strings.TrimSpace(gitOut(t, e.repo, "rev-parse", "--abbrev-ref", "HEAD"))
	d := e.start()
	st := d.ready(t)
	d.ask(t, "warm up") // waits for the first snapshot's state copy to be taken

	e.git("checkout", "-q", "-b", "feature")
	beta := filepath.Join(e.repo, "beta", "beta.go")
	if err := os.WriteFile(beta, []byte(testenv.FixtureFiles["beta/beta.go"]+"\n// Feature work.\nfunc Delta() int { return 4 }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.git("commit", "-qam", "feature")
	onFeature, _ := d.ask(t, "What is new on the feature branch?")
	if onFeature.PrefilledTokens == 0 || onFeature.PackVersion == st.PackVersion {
		t.Fatalf("first switch to feature: %+v", onFeature)
	}

	e.git("checkout", "-q", base)
	back, _ := d.ask(t, "And on the base branch?")
	if back.PrefilledTokens != 0 || back.PackVersion != st.PackVersion {
		t.Fatalf("switching back to %s prefilled %d tokens (version %s, was %s)\n%s", base, back.PrefilledTokens, back.PackVersion, st.PackVersion, d.stderr)
	}

	e.git("checkout", "-q", "feature")
	again, _ := d.ask(t, "Feature again?")
	if again.PrefilledTokens != 0 {
		t.Fatalf("second switch to feature prefilled %d tokens\n%s", again.PrefilledTokens, d.stderr)
	}
	if !strings.Contains(d.stderr.String(), "snapshot restored\" snapshot=branch-feature") {
		t.Fatalf("the feature branch's snapshot was not restored:\n%s", d.stderr)
	}
	d.stop(t)

	// A restart on feature restores feature's own snapshot.
	d = e.start()
	st2 := d.ready(t)
	if st2.PrefilledTokens != 0 || st2.RestoredTokens != st2.PackTokens || st2.PackVersion != again.PackVersion {
		t.Fatalf("restart on feature: %+v", st2)
	}
	d.stop(t)
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return string(out)
}

// TestKillDuringSnapshot: a daemon killed with SIGKILL at any moment,
// snapshot writes included, starts again on a valid cache: an older
// snapshot or none, never a torn one, and answers as a daemon that starts
// from nothing.
func TestKillDuringSnapshot(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	d.ready(t)
	d.stop(t)
	gamma := filepath.Join(e.repo, "gamma", "gamma.go")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 4; i++ {
		d = e.start()
		d.ready(t)
		// An edit makes the watcher prefill and snapshot in the background;
		// kill somewhere in that work.
		body := strings.Replace(testenv.FixtureFiles["gamma/gamma.go"], "!", strings.Repeat("!", i+2), 1)
		if err := os.WriteFile(gamma, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+rng.IntN(250)) * time.Millisecond)
		d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.done
		d.done <- nil
	}
	if err := os.WriteFile(gamma, []byte(testenv.FixtureFiles["gamma/gamma.go"]), 0o644); err != nil {
		t.Fatal(err)
	}
	d = e.start()
	st := d.ready(t)
	if st.KVTokens != st.PackTokens {
		t.Fatalf("after kills: %+v", st)
	}
	got, _ := d.ask(t, "What does Gamma do?")
	d.stop(t)
	// The same pack computed from nothing: the snapshots go, the layout stays.
	kvs, _ := filepath.Glob(filepath.Join(e.stateDir(), "snapshots", "*.kv"))
	if len(kvs) == 0 {
		t.Fatalf("no snapshots in %s", e.stateDir())
	}
	for _, f := range kvs {
		os.Remove(f)
	}
	d = e.start()
	st2 := d.ready(t)
	if st2.RestoredTokens != 0 || st2.PackVersion != st.PackVersion {
		t.Fatalf("without snapshots: restored %d, version %s (was %s)", st2.RestoredTokens, st2.PackVersion, st.PackVersion)
	}
	fresh, _ := d.ask(t, "What does Gamma do?")
	if got.Text != fresh.Text {
		t.Fatalf("after kills the answer is %q, computed from nothing %q:\n%s", got.Text, fresh.Text, d.stderr)
	}
	d.stop(t)
}
