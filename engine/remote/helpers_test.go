package remote_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lore/api"
	"lore/config"
	"lore/engine/remote"
	"lore/internal/testenv"
	"lore/models/synth"
)

// These tests run a real llama-server (built by make deps-server) on
// loopback with the generated tiny MoE model, and real lore daemons in
// remote mode against it, on fixture git repositories.

// startServer starts llama-server with the tiny model (or model), slots
// of 8192 tokens (the daemons' LORE_CTX) saved under a folder of the test.
func startServer(t *testing.T, slots int, model string) *remote.Server {
	t.Helper()
	return startServerOpts(t, slots, model)
}

// startServerWith starts the tiny model's server with extra flags.
func startServerWith(t *testing.T, extra ...string) *remote.Server {
	t.Helper()
	return startServerOpts(t, 1, "", extra...)
}

func startServerOpts(t *testing.T, slots int, model string, extra ...string) *remote.Server {
	t.Helper()
	bin := testenv.LlamaServer(t)
	if model == "" {
		model = testenv.TinyModel(t)
	}
	dir := t.TempDir()
	save := filepath.Join(dir, "slots")
	if err := os.Mkdir(save, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := remote.StartServer(ctx, remote.ServerOptions{Binary: bin, Model: model, Context: 8192, Slots: slots, Threads: 2, SaveDir: save, LogFile: filepath.Join(dir, "server.log"), Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("llama-server's log (end):\n%s", b)
		}
	})
	return s
}

// demoModel generates the demo-size model: another vocabulary than the
// tiny one's.
func demoModel(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "demo.gguf")
	if err := synth.WriteFile(p, synth.Demo, synth.DefaultSeed); err != nil {
		t.Fatal(err)
	}
	return p
}

type env struct {
	t    *testing.T
	bin  string
	vars []string
	repo string
}

// newEnv is a fixture repository and an environment whose daemons use the
// server at url.
func newEnv(t *testing.T, url string, extra ...string) *env {
	t.Helper()
	vars := append(testenv.Env(t), config.EnvEngine+"="+config.EngineRemote, config.EnvRemoteURL+"="+url, config.EnvWatch+"=off")
	return &env{t: t, bin: testenv.Binaries(t), vars: append(vars, extra...), repo: testenv.FixtureRepo(t)}
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

type daemon struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
	client *api.Client
}

// command runs `lore daemon` for the environment's repository.
func (e *env) command() (*exec.Cmd, *syncBuffer) {
	buf := &syncBuffer{}
	cmd := exec.Command(filepath.Join(e.bin, "lore"), "daemon", "--repo", e.repo)
	cmd.Env = e.vars
	cmd.Stderr = buf
	return cmd, buf
}

func (e *env) start() *daemon {
	e.t.Helper()
	d := &daemon{done: make(chan error, 1)}
	d.cmd, d.stderr = e.command()
	if err := d.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	e.t.Cleanup(func() {
		d.cmd.Process.Kill()
		err := <-d.done
		d.done <- err
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

// ready waits for the daemon's first sync and returns its status.
func (d *daemon) ready(t *testing.T) *api.Status {
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
			t.Fatalf("daemon failed: %s\n%s", st.Error, d.stderr)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("daemon not ready: %+v\n%s", st, d.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (d *daemon) ask(t *testing.T, q string) *api.AskResult {
	t.Helper()
	res, err := d.tryAsk(q, 12, nil)
	if err != nil {
		t.Fatalf("ask: %v\n%s", err, d.stderr)
	}
	return res
}

func (d *daemon) tryAsk(q string, maxTokens int, onToken func(string)) (*api.AskResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if onToken == nil {
		onToken = func(string) {}
	}
	return d.client.Ask(ctx, api.AskParams{Question: q, MaxTokens: maxTokens}, onToken, nil)
}

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

// waitFor polls cond until it holds or two minutes passed (the machines
// that run the tests are shared and slow); d's log is shown on failure.
func waitFor(t *testing.T, d *daemon, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; the daemon's log:\n%s", what, d.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slotFiles are the slot saves in the server's --slot-save-path.
func slotFiles(s *remote.Server) []string {
	m, _ := filepath.Glob(filepath.Join(s.SaveDir(), "lore-*.bin"))
	return m
}

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
