package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lore/api"
	"lore/cache"
	"lore/config"
	"lore/internal/testenv"
)

// These tests run the real lore daemon process on a real unix socket with
// real llama.cpp on the generated tiny model, against a fixture git repository.

type env struct {
	t    testing.TB
	bin  string
	vars []string
	repo string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, bin: testenv.Binaries(t), vars: testenv.Env(t), repo: testenv.FixtureRepo(t)}
	return e
}

func (e *env) get(name string) string {
	v := ""
	for _, kv := range e.vars {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

func (e *env) socket() string {
	return filepath.Join(e.get(config.EnvRuntime), filepath.Base(config.SocketPath(e.repo)))
}

// branchSnapshot is the path of the one branch snapshot the daemon saved.
func (e *env) branchSnapshot() string {
	e.t.Helper()
	m, _ := filepath.Glob(filepath.Join(e.stateDir(), "snapshots", "branch-*.kv"))
	if len(m) != 1 {
		e.t.Fatalf("want one branch snapshot, found %q", m)
	}
	return m[0]
}

func (e *env) stateDir() string {
	return filepath.Join(e.get(config.EnvStateDir), "repos", config.RepoID(e.repo))
}

// daemon is a running `lore daemon` process.
type daemon struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
	client *api.Client
}

func (e *env) start(extra ...string) *daemon {
	e.t.Helper()
	d := &daemon{stderr: &syncBuffer{}, done: make(chan error, 1)}
	d.cmd = exec.Command(filepath.Join(e.bin, "lore"), append([]string{"daemon", "--repo", e.repo}, extra...)...)
	d.cmd.Env = e.vars
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	e.t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.done
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		c, err := api.Dial(ctx, e.socket())
		if err == nil {
			d.client = c
			e.t.Cleanup(func() { c.Close() })
			return d
		}
		select {
		case err := <-d.done:
			d.done <- err
			e.t.Fatalf("daemon exited (%v) before listening:\n%s", err, d.stderr)
		case <-ctx.Done():
			e.t.Fatalf("daemon did not listen on %s:\n%s", e.socket(), d.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ready waits until the daemon's first sync is done and returns its status.
func (d *daemon) ready(t testing.TB) *api.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		st, err := d.client.Status(ctx)
		if err != nil {
			t.Fatalf("status: %v\n%s", err, d.stderr)
		}
		switch st.State {
		case api.StateReady:
			return st
		case api.StateFailed:
			t.Fatalf("daemon failed: %s", st.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Fatalf("daemon exited with %v:\n%s", err, d.stderr)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("daemon did not stop:\n%s", d.stderr)
	}
}

func (d *daemon) ask(t *testing.T, q string) (*api.AskResult, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var pieces []string
	res, err := d.client.Ask(ctx, api.AskParams{Question: q, MaxTokens: 12}, func(s string) { pieces = append(pieces, s) }, nil)
	if err != nil {
		t.Fatalf("ask: %v\n%s", err, d.stderr)
	}
	return res, pieces
}

func TestDaemonAskRestartEdit(t *testing.T) {
	e := newEnv(t)
	// The question itself must bring the pack up to date here.
	e.vars = append(e.vars, config.EnvWatch+"=off")
	d := e.start()
	st := d.ready(t)
	if st.PackTokens == 0 || st.KVTokens != st.PackTokens || st.PrefilledTokens != st.PackTokens || st.RestoredTokens != 0 {
		t.Fatalf("first start: %+v", st)
	}
	if st.Segments != len(testenv.FixtureFiles)+2 || st.Files != len(testenv.FixtureFiles) || st.Model != "lore-synth-tiny" {
		t.Fatalf("pack shape: segments %d files %d model %q", st.Segments, st.Files, st.Model)
	}

	res, pieces := d.ask(t, "What does Gamma do?")
	if len(pieces) == 0 || strings.Join(pieces, "") != res.Text {
		t.Fatalf("streamed %q, result text %q", pieces, res.Text)
	}
	if res.GeneratedTokens == 0 || res.CachedTokens != st.PackTokens || res.PromptTokens <= res.CachedTokens || res.PrefilledTokens != 0 || res.TTFTMillis <= 0 {
		t.Fatalf("answer stats: %+v", res)
	}
	if res.PackVersion != st.PackVersion {
		t.Fatalf("answer used pack %s, status says %s", res.PackVersion, st.PackVersion)
	}
	after, _ := d.client.Status(context.Background())
	if after.PrefilledTokens != st.PackTokens || after.KVTokens != st.PackTokens {
		t.Fatalf("a question's own tokens must not count as prefilled: %+v", after)
	}
	if after.PrefillTokensPerSec <= 0 || after.DecodeTokensPerSec <= 0 || after.MemoryBytes <= 0 || after.ActiveQuestions != 0 {
		t.Fatalf("engine statistics: prefill %.0f/s decode %.0f/s memory %d active %d",
			after.PrefillTokensPerSec, after.DecodeTokensPerSec, after.MemoryBytes, after.ActiveQuestions)
	}
	d.stop(t)

	// Unchanged repository: everything is restored, nothing prefilled.
	d = e.start()
	st2 := d.ready(t)
	if st2.RestoredTokens != st.KVTokens || st2.PrefilledTokens != 0 || st2.KVTokens != st.KVTokens {
		t.Fatalf("restart: restored %d prefilled %d kv %d, want restored %d prefilled 0", st2.RestoredTokens, st2.PrefilledTokens, st2.KVTokens, st.KVTokens)
	}
	d.stop(t)

	// One file edited while stopped: the saved layout is resumed, the edit
	// goes to the overlay, and the whole previous prefix is restored.
	edit := filepath.Join(e.repo, "beta", "beta.go")
	if err := os.WriteFile(edit, []byte(strings.Replace(testenv.FixtureFiles["beta/beta.go"], "a + b", "b + a + 0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	d = e.start()
	st3 := d.ready(t)
	if st3.RestoredTokens != st.KVTokens || st3.PrefilledTokens == 0 || st3.PrefilledTokens != st3.PackTokens-st.KVTokens {
		t.Fatalf("after editing beta.go: restored %d prefilled %d of %d, want all %d restored", st3.RestoredTokens, st3.PrefilledTokens, st3.PackTokens, st.KVTokens)
	}

	// An edit while running goes to the overlay at the end of the pack: the
	// next question sees it and prefills only the edited file's new segment.
	edit = filepath.Join(e.repo, "gamma", "gamma.go")
	if err := os.WriteFile(edit, []byte(strings.Replace(testenv.FixtureFiles["gamma/gamma.go"], "!", "?!", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := d.client.Status(context.Background())
	res, _ = d.ask(t, "What does Gamma return now?")
	// The scan that found the edit is the one the pack is rebuilt from.
	if after, _ := d.client.Status(context.Background()); after.Scans != before.Scans+1 {
		t.Errorf("the question after an edit scanned %d times, want once", after.Scans-before.Scans)
	}
	// CachedTokens is the pack the answer used; all of the old pack was kept.
	if res.PrefilledTokens == 0 || res.CachedTokens-res.PrefilledTokens != st3.PackTokens || res.PackVersion == st3.PackVersion {
		t.Fatalf("live edit: prefilled %d of a %d-token pack, was %d tokens; versions %s -> %s", res.PrefilledTokens, res.CachedTokens, st3.PackTokens, st3.PackVersion, res.PackVersion)
	}
	d.stop(t)
}

func TestPackReducesWhatDoesNotFit(t *testing.T) {
	e := newEnv(t)
	e.vars = append(e.vars, config.EnvContext+"=2048") // 1024 tokens are kept for the question
	// An untracked notes file too large for the pack's share, small enough
	// to be retrieved for a question that names it.
	notes := strings.Repeat("Release notes: the zeta exporter writes CSV.\n", 14)
	if err := os.WriteFile(filepath.Join(e.repo, "zeta-notes.txt"), []byte(notes), 0o644); err != nil {
		t.Fatal(err)
	}
	d := e.start()
	st := d.ready(t)
	if len(st.Omitted) == 0 || st.PackTokens > 2048-1024 {
		t.Fatalf("status: files %d, omitted %v, pack %d tokens", st.Files, st.Omitted, st.PackTokens)
	}
	reduced := map[string]bool{}
	for _, o := range st.Omitted {
		reduced[o.Path] = true
	}
	if !reduced["zeta-notes.txt"] {
		t.Fatalf("the notes file fit in full (%v, pack %d tokens): the fixture needs adjusting", st.Omitted, st.PackTokens)
	}
	res, _ := d.ask(t, "What does zeta-notes.txt say?")
	if len(res.Omitted) != len(st.Omitted) {
		t.Fatalf("answer statistics omit %v, status %v", res.Omitted, st.Omitted)
	}
	// The file named comes first; the room left may hold others.
	if len(res.Retrieved) == 0 || res.Retrieved[0] != "zeta-notes.txt" || res.PromptTokens-res.CachedTokens < 100 {
		t.Fatalf("retrieved %v, question tokens %d", res.Retrieved, res.PromptTokens-res.CachedTokens)
	}
	d.stop(t)
}

func TestCorruptSnapshotIsDiscarded(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	st := d.ready(t)
	d.stop(t)

	snap := e.branchSnapshot()
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatalf("no snapshot after shutdown: %v", err)
	}
	for i := len(b) / 2; i < len(b)/2+64; i++ {
		b[i] ^= 0xA5
	}
	if err := os.WriteFile(snap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	d = e.start()
	st2 := d.ready(t)
	if st2.RestoredTokens != 0 || st2.PrefilledTokens != st.PackTokens {
		t.Fatalf("corrupt snapshot: restored %d prefilled %d", st2.RestoredTokens, st2.PrefilledTokens)
	}
	d.stop(t)
	if !strings.Contains(d.stderr.String(), "snapshot discarded") {
		t.Fatalf("no log line about the discarded snapshot:\n%s", d.stderr)
	}
	// The rebuilt snapshot is valid again.
	d = e.start()
	if st3 := d.ready(t); st3.RestoredTokens != st.PackTokens {
		t.Fatalf("rebuilt snapshot not restored: %+v", st3)
	}
	d.stop(t)
}

func TestSecondDaemonRefused(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	d.ready(t)
	cmd := exec.Command(filepath.Join(e.bin, "lore"), "daemon", "--repo", e.repo)
	cmd.Env = e.vars
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 || !strings.Contains(string(out), "already running") || !strings.Contains(string(out), "lore stop") {
		t.Fatalf("second daemon: %v\n%s", err, out)
	}
	d.stop(t)
}

func TestStartErrorsAreActionable(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, env string
		want      []string
	}{
		{"missing library", config.EnvLlamaLib + "=" + filepath.Join(t.TempDir(), "nolib"), []string{"make deps", config.EnvLlamaLib}},
		{"missing model", config.EnvModel + "=" + filepath.Join(t.TempDir(), "none.gguf"), []string{"none.gguf", config.EnvModel, "lore model synth"}},
	} {
		cmd := exec.Command(filepath.Join(e.bin, "lore"), "daemon", "--repo", e.repo)
		cmd.Env = append(append([]string{}, e.vars...), tc.env)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("%s: exit %v\n%s", tc.name, err, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}
}

func TestDisconnectFreesWork(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	d.ready(t)
	// Each of these clients disconnects after its first answer text; the
	// daemon must free their sequences, or later questions would wait forever.
	for i := 0; i < 5; i++ {
		c, err := api.Dial(context.Background(), e.socket())
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan struct{}, 1)
		ctx, cancel := context.WithCancel(context.Background())
		go c.Ask(ctx, api.AskParams{Question: "Explain everything", MaxTokens: 4000}, func(string) {
			select {
			case got <- struct{}{}:
			default:
			}
		}, nil)
		select {
		case <-got:
		case <-time.After(time.Minute):
			t.Fatal("no answer text")
		}
		cancel()
		c.Close()
	}
	res, _ := d.ask(t, "Still there?")
	if res.GeneratedTokens == 0 {
		t.Fatalf("no answer after disconnects: %+v", res)
	}

	// A client that cancels but stays connected frees the work too.
	got := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := d.client.Ask(ctx, api.AskParams{Question: "Explain everything", MaxTokens: 4000}, func(string) {
			select {
			case got <- struct{}{}:
			default:
			}
		}, nil)
		errc <- err
	}()
	select {
	case <-got:
	case <-time.After(time.Minute):
		t.Fatal("no answer text")
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ask: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second) // a hang guard, not a timing check
	for {
		st, err := d.client.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.ActiveQuestions == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a cancelled question still runs on the open connection: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(d.stderr.String(), "question cancelled by its client"); n != 6 {
		t.Fatalf("%d questions cancelled, want 6 (5 disconnected, 1 cancelled on an open connection):\n%s", n, d.stderr)
	}
	d.stop(t)
}

// syncBuffer lets the test read a daemon's stderr while it writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A saved layout that cannot be resumed is replaced by a fresh one; the
// snapshot still restores what the fresh layout shares with it.
func TestUnreadableLayoutIsLaidOutAfresh(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	st := d.ready(t)
	d.stop(t)
	store, err := cache.Open(e.stateDir())
	if err != nil {
		t.Fatal(err)
	}
	key := "layout/" + strings.TrimSuffix(filepath.Base(e.branchSnapshot()), ".kv")
	if _, ok, _ := store.Get(key); !ok {
		t.Fatal("no layout saved with the snapshot")
	}
	store.Put(key, []byte("{not json"))
	store.Close()
	d = e.start()
	st2 := d.ready(t)
	d.stop(t)
	if !strings.Contains(d.stderr.String(), "laying the pack out afresh") || st2.RestoredTokens != st.KVTokens {
		t.Fatalf("restored %d of %d\n%s", st2.RestoredTokens, st.KVTokens, d.stderr)
	}
}

// The watcher refreshes the prefix soon after an edit, so the next question
// prefills nothing; a burst of writes is coalesced into few refreshes.
func TestWatcherKeepsPrefixFresh(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	st := d.ready(t)
	path := filepath.Join(e.repo, "alpha", "alpha.go")
	for i := 0; i < 1000; i++ {
		body := strings.Replace(testenv.FixtureFiles["alpha/alpha.go"], "hello ", fmt.Sprintf("hello %d ", i), 1)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// On a loaded machine the watcher may refresh in the middle of the
	// burst too: the pack is fresh once a refreshed version stays put.
	deadline := time.Now().Add(30 * time.Second)
	settled := ""
	for {
		cur, err := d.client.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		refreshed := cur.PackVersion != st.PackVersion && cur.State == api.StateReady && cur.KVTokens == cur.PackTokens
		if refreshed && cur.PackVersion == settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watcher did not refresh the pack: %+v", cur)
		}
		settled = ""
		if refreshed {
			settled = cur.PackVersion
		}
		time.Sleep(250 * time.Millisecond)
	}
	res, _ := d.ask(t, "What does Alpha print?")
	if res.PrefilledTokens != 0 {
		t.Errorf("the question prefilled %d tokens after the watcher's refresh", res.PrefilledTokens)
	}
	d.stop(t)
	if n := strings.Count(d.stderr.String(), "refreshed after file changes"); n == 0 || n > 10 {
		t.Errorf("%d refreshes for a burst of 1000 writes", n)
	}
}

// Settings from the repository's .lore/config.toml reach the daemon: file
// excludes, the snapshot budget and the idle shutdown.
func TestRepoConfigReachesDaemon(t *testing.T) {
	e := newEnv(t)
	e.vars = append(e.vars, "XDG_CONFIG_HOME="+t.TempDir())
	cfg := "exclude = [\"docs/\"]\nsnapshot_budget = 1\nidle_shutdown = \"3s\"\n"
	if err := os.MkdirAll(filepath.Join(e.repo, ".lore"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.repo, ".lore", "config.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := e.start()
	st := d.ready(t)
	// README, go.mod, alpha, beta, gamma, delta, and the config file itself.
	if st.Files != len(testenv.FixtureFiles) {
		t.Errorf("files %d: docs/ should be excluded", st.Files)
	}
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Fatalf("idle daemon exited with %v\n%s", err, d.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the daemon did not stop when idle\n%s", d.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.stateDir(), "snapshots", "main.kv")); !os.IsNotExist(err) {
		t.Errorf("a snapshot over the budget was written: %v", err)
	}
	if !strings.Contains(d.stderr.String(), "snapshot not written") || !strings.Contains(d.stderr.String(), "idle: shutting down") {
		t.Errorf("log:\n%s", d.stderr)
	}
}
