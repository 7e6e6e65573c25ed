package remote_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/api"
	"lore/internal/testenv"
)

// TestRemoteDaemon runs a daemon in remote mode against llama-server: it
// answers, the second question finds the prefix cached, an edit costs the
// edited file's tokens (the overlay after the prefix), and a server
// restart costs a slot restore, not a prefill, both while the daemon runs
// and when both restart.
func TestRemoteDaemon(t *testing.T) {
	srv := startServer(t, 1, "")
	e := newEnv(t, srv.URL)
	d := e.start()
	st := d.ready(t)
	if !strings.Contains(st.Engine, "remote "+srv.URL) || st.PackTokens == 0 || st.KVTokens != st.PackTokens || st.PrefilledTokens != st.PackTokens {
		t.Fatalf("first start: engine %q pack %d kv %d prefilled %d", st.Engine, st.PackTokens, st.KVTokens, st.PrefilledTokens)
	}
	res := d.ask(t, "What does Gamma do?")
	if res.Text == "" || res.GeneratedTokens == 0 || res.PromptTokens <= st.PackTokens || !cached(res, st.PackTokens) || res.PrefilledTokens != 0 {
		t.Fatalf("first answer: %+v (pack %d tokens)", res, st.PackTokens)
	}
	res = d.ask(t, "And what does Beta do?")
	if !cached(res, st.PackTokens) {
		t.Fatalf("second answer: cached %d of a %d-token pack", res.CachedTokens, st.PackTokens)
	}
	after, err := d.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if after.LastCachedTokens != res.CachedTokens || after.LastPromptTokens != res.PromptTokens {
		t.Fatalf("status: last prompt %d cached %d, want %d and %d", after.LastPromptTokens, after.LastCachedTokens, res.PromptTokens, res.CachedTokens)
	}

	// An edit goes to the overlay after the prefix: the server keeps the
	// prefix and prefills the edited file's segment only.
	waitFor(t, d, "the slot's save", func() bool { return len(slotFiles(srv)) == 1 && saves(d) >= 1 })
	saved := saves(d)
	if err := os.WriteFile(filepath.Join(e.repo, "gamma", "gamma.go"), []byte(strings.Replace(testenv.FixtureFiles["gamma/gamma.go"], "!", "?!", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res = d.ask(t, "What does Gamma return now?")
	edited, _ := d.client.Status(context.Background())
	overlay := edited.PackTokens - st.PackTokens
	if overlay <= 0 || res.PrefilledTokens <= 0 || res.PrefilledTokens > overlay || !cached(res, edited.PackTokens) {
		t.Fatalf("edit: pack %d -> %d tokens, prefilled %d (want at most the overlay's %d), cached %d", st.PackTokens, edited.PackTokens, res.PrefilledTokens, overlay, res.CachedTokens)
	}

	// The server restarts (killed): the daemon's next question restores
	// the slot's save instead of prefilling the pack again.
	// (Killed while it writes a save, the server leaves half a file: a
	// restore then fails and the slot is prefilled again.)
	waitFor(t, d, "the slot saved after the edit", func() bool { return saves(d) > saved })
	restart(t, srv)
	res = d.ask(t, "Who calls Alpha?")
	if !cached(res, edited.PackTokens) {
		t.Fatalf("after a server restart: cached %d of %d tokens (re-prefilled?)\n%s", res.CachedTokens, edited.PackTokens, d.stderr)
	}
	if !strings.Contains(d.stderr.String(), "restored its save") {
		t.Fatalf("the daemon did not say it restored the slot:\n%s", d.stderr)
	}

	// Both restart: the daemon restores its snapshot, which is the slot's
	// save, and prefills nothing.
	d.stop(t)
	restart(t, srv)
	d = e.start()
	st2 := d.ready(t)
	if st2.RestoredTokens != edited.PackTokens || st2.PrefilledTokens != 0 {
		t.Fatalf("daemon and server restarted: restored %d prefilled %d, want %d restored\n%s", st2.RestoredTokens, st2.PrefilledTokens, edited.PackTokens, d.stderr)
	}
	if res = d.ask(t, "What does Alpha do?"); !cached(res, edited.PackTokens) {
		t.Fatalf("after both restarted: cached %d of %d", res.CachedTokens, edited.PackTokens)
	}
	d.stop(t)
}

// TestRemoteTwoDaemons shares one server (two slots) between the daemons
// of two repositories: each keeps its own prefix cached.
func TestRemoteTwoDaemons(t *testing.T) {
	srv := startServer(t, 2, "")
	var ds []*daemon
	var packs []int
	for i := range 2 {
		cfgDir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(cfgDir, "lore"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfgDir, "lore", "config.toml"), fmt.Appendf(nil, "[remote]\nslot = \"%d\"\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, srv.URL, "XDG_CONFIG_HOME="+cfgDir)
		// The second repository differs from the first.
		if i == 1 {
			if err := os.WriteFile(filepath.Join(e.repo, "epsilon.go"), []byte("package epsilon\n\n// Epsilon is small.\nconst Epsilon = 1e-9\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d := e.start()
		ds = append(ds, d)
		packs = append(packs, d.ready(t).PackTokens)
	}
	if packs[0] == packs[1] {
		t.Fatalf("both packs hold %d tokens: the repositories should differ", packs[0])
	}
	// Alternating questions: neither evicts the other's prefix.
	for round := range 2 {
		for i, d := range ds {
			res := d.ask(t, fmt.Sprintf("Question %d for repository %d?", round, i))
			if !cached(res, packs[i]) {
				t.Fatalf("round %d, repository %d: cached %d of %d\n%s", round, i, res.CachedTokens, packs[i], d.stderr)
			}
		}
	}
	for _, d := range ds {
		d.stop(t)
	}
}

// TestRemoteServerDown checks the failures: no server at start (the error
// names the URL), the server dying mid-answer (a clear error, and the
// daemon answers again once it is back), and a server running another
// model (refused).
func TestRemoteServerDown(t *testing.T) {
	t.Run("at start", func(t *testing.T) {
		srv := startServer(t, 1, "")
		url := srv.URL
		srv.Stop()
		e := newEnv(t, url)
		cmd, stderr := e.command()
		out := runFails(t, cmd, stderr)
		if !strings.Contains(out, url) || !strings.Contains(out, "does not answer") {
			t.Fatalf("want an error naming %s:\n%s", url, out)
		}
	})
	t.Run("wrong model", func(t *testing.T) {
		srv := startServer(t, 1, demoModel(t))
		e := newEnv(t, srv.URL)
		cmd, stderr := e.command()
		out := runFails(t, cmd, stderr)
		if !strings.Contains(out, "runs another model") || !strings.Contains(out, "vocabulary of 32000 tokens") {
			t.Fatalf("want the other model refused:\n%s", out)
		}
	})
	t.Run("mid-answer", func(t *testing.T) {
		srv := startServer(t, 1, "")
		e := newEnv(t, srv.URL)
		d := e.start()
		st := d.ready(t)
		var once bool
		_, err := d.tryAsk("Tell me everything about the fixture.", 4000, func(string) {
			if !once {
				once = true
				srv.Stop()
			}
		})
		if err == nil || !strings.Contains(err.Error(), "stopped answering") || !strings.Contains(err.Error(), srv.URL) {
			t.Fatalf("want a clear error on the server's death mid-answer, got %v", err)
		}
		if _, err := d.tryAsk("Still there?", 4, nil); err == nil || !strings.Contains(err.Error(), srv.URL) {
			t.Fatalf("with the server down: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
		res := d.ask(t, "Back again?")
		if res.Text == "" || res.PromptTokens <= st.PackTokens {
			t.Fatalf("once the server is back: %+v", res)
		}
		d.stop(t)
	})
}

// runFails runs a daemon that must fail to start and returns its output.
func runFails(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer) string {
	t.Helper()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("the daemon started:\n%s", stderr)
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the daemon neither failed nor stopped:\n%s", stderr)
	}
	return stderr.String()
}

func restart(t *testing.T, srv interface{ Restart(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
}

// saves counts the snapshots the daemon saved: for a remote engine, each
// is a slot save the server finished writing.
func saves(d *daemon) int { return strings.Count(d.stderr.String(), "snapshot saved") }

// cached reports whether the server reused the whole pack of pack tokens
// for the answer: all of it, and perhaps the start of the question that
// the previous one shared, never the whole prompt.
func cached(res *api.AskResult, pack int) bool {
	return res.CachedTokens >= pack && res.CachedTokens < res.PromptTokens
}
