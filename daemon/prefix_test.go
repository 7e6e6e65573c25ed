package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"lore/cache"
	"lore/engine"
	"lore/internal/testenv"
)

// newTestPrefix is a prefix manager on the tiny model over a fixture
// repository, synced once.
func newTestPrefix(t *testing.T) (*prefix, string) {
	t.Helper()
	lib, model, repo := testenv.LibDir(t), testenv.TinyModel(t), testenv.FixtureRepo(t)
	d, err := New(Options{Repo: repo, StateDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(d.opts.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Open(engine.Config{LibDir: lib, ModelPath: model, ContextSize: 8192, Threads: 2})
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := newPrefix(ctx, d, store, eng)
	t.Cleanup(func() {
		cancel()
		p.wait()
		eng.Close()
		store.Close()
	})
	if err := p.initialSync(ctx); err != nil {
		t.Fatal(err)
	}
	return p, repo
}

// A view keeps its prefix: a sync that a change calls for waits until the
// view is released, and the view's pack stays as it was.
func TestViewHoldsThePrefixUntilReleased(t *testing.T) {
	p, repo := newTestPrefix(t)
	ctx := context.Background()
	v1, release1, err := p.acquire(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	version, tokens := v1.version, slices.Clone(v1.tokens)

	if err := os.WriteFile(filepath.Join(repo, "alpha", "alpha.go"), []byte("package alpha\n\n// Alpha greets twice.\nfunc Alpha() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type acquired struct {
		v       *view
		release func()
		err     error
	}
	second := make(chan acquired, 1)
	go func() {
		v, release, err := p.acquire(ctx, nil)
		second <- acquired{v, release, err}
	}()
	select {
	case a := <-second:
		t.Fatalf("a second view (version %v, err %v) came while the first was out", a.v, a.err)
	case <-time.After(500 * time.Millisecond):
	}
	if !p.eng.Holds(v1.tokens) {
		t.Fatal("sequence 0 moved under a view")
	}
	if v1.version != version || !slices.Equal(v1.tokens, tokens) {
		t.Fatal("the view changed")
	}
	release1()
	release1() // a second release is a no-op

	var a acquired
	select {
	case a = <-second:
	case <-time.After(time.Minute):
		t.Fatal("the sync did not run once the view was released")
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	defer a.release()
	if a.v.version == version {
		t.Fatalf("the second view has the first's version %s after a change", version)
	}
	if a.v.prefilled == 0 {
		t.Fatal("the second view prefilled nothing after a change")
	}
	if v1.version != version || !slices.Equal(v1.tokens, tokens) {
		t.Fatal("a released view changed when the prefix moved on")
	}
	if !p.eng.Holds(a.v.tokens) {
		t.Fatal("sequence 0 does not hold the second view's pack")
	}
}
