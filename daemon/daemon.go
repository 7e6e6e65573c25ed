// Package daemon is lore's per-repository daemon: it owns the engine and the
// cache, keeps the repository's pack in sequence 0 of the engine, persists
// that KV prefix across restarts, and serves questions over a unix socket
// (JSON-RPC 2.0, see package api).
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"lore/api"
	"lore/cache"
	"lore/config"
	"lore/engine"
	"lore/ingest/layout"
	"lore/ingest/pack"
	"lore/ingest/scan"
)

// Options configure a daemon.
type Options struct {
	Repo     string        // repository root (absolute)
	Engine   engine.Config // library, model, context settings
	StateDir string        // "" = config.RepoStateDir(Repo)
	Socket   string        // "" = config.SocketPath(Repo)
	NoWatch  bool          // no file watcher: refresh at each question only
	Scan     scan.Options  // file selection (size limit, excludes, vendored, generated)
	Policy   layout.Policy // zero: layout.DefaultPolicy
	// SnapshotBudget caps the bytes of KV snapshot kept on disk; a snapshot
	// that would exceed it is not written (0: no limit).
	SnapshotBudget int64
	// IdleShutdown stops the daemon after this long without a question
	// (0: never).
	IdleShutdown time.Duration
	Logger       *slog.Logger // nil = slog.Default()
}

// Daemon serves one repository.
type Daemon struct {
	opts  Options
	log   *slog.Logger
	start time.Time
	ctx   context.Context // the daemon's lifetime: background work runs in it

	store *cache.Store
	eng   *engine.Engine

	ready    chan struct{} // closed once the first sync finished (or failed)
	stopOnce sync.Once
	stop     chan struct{} // closed by the shutdown method

	// prefixMu orders the prefix: a sync holds it exclusively, a question
	// holds it shared while it generates so its prefix stays put. It also
	// guards packer.
	prefixMu    sync.RWMutex
	packer      *pack.Packer
	snapName    string // the current branch's snapshot (see branchSnapshot)
	lastScan    *scan.Result
	scans       atomic.Uint64             // scans run, counted under scanMu so that their numbers follow their order
	appliedScan uint64                    // the scan the packer holds (guarded by prefixMu)
	packTokens  map[string][]engine.Token // segment tokens of the pack last synced, by hash
	scanMu      sync.Mutex                // guards lastScan: questions scan concurrently
	nudges      chan struct{}             // editor buffers changed (see nudge)
	maintaining atomic.Bool               // a background rebuild is running
	savePending atomic.Bool               // a background snapshot waits to run
	active      atomic.Int32              // questions being answered
	tokenHits   atomic.Int64              // segment tokenizations from the cache
	tokenMisses atomic.Int64              // ... and computed
	lastActive  atomic.Int64              // unix nanoseconds of the last question's start or end

	mu        sync.Mutex // guards the fields below
	state     string
	failure   error
	pack      *packState
	progress  *api.Progress
	prefilled int
	restored  int
	snapBytes int64
	savedAt   []engine.Token                   // tokens covered by the last snapshot
	buffers   map[string]buffer                // unsaved editor buffers, by path below the root
	cancels   map[cancelKey]context.CancelFunc // asks in flight

	prefillRate, decodeRate    float64 // tokens per second, last measured
	lastPrefill                engine.SyncStats
	lastPrefillAt              time.Time
	staleTokens, overlayTokens int // of the pack last synced

	sessionLocks sessionLocks

	saveMu sync.Mutex     // one snapshot write at a time
	bg     sync.WaitGroup // background snapshot writes
}

// New checks options and fills defaults; Run does the work.
func New(opts Options) (*Daemon, error) {
	if opts.Repo == "" {
		return nil, errors.New("no repository given")
	}
	if opts.StateDir == "" {
		opts.StateDir = config.RepoStateDir(opts.Repo)
	}
	if opts.Socket == "" {
		opts.Socket = config.SocketPath(opts.Repo)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Policy == (layout.Policy{}) {
		opts.Policy = layout.DefaultPolicy
	}
	return &Daemon{
		opts:    opts,
		log:     opts.Logger,
		ready:   make(chan struct{}),
		stop:    make(chan struct{}),
		nudges:  make(chan struct{}, 1),
		buffers: map[string]buffer{},
		cancels: map[cancelKey]context.CancelFunc{},
		state:   api.StateLoading,
	}, nil
}

// Run serves until ctx is cancelled or a client calls shutdown, then saves
// the prefix snapshot and returns. Errors that stop the daemon from starting
// (lock held, no model, no library) are returned.
func (d *Daemon) Run(ctx context.Context) error {
	d.start = time.Now()
	if err := os.MkdirAll(d.opts.StateDir, 0o700); err != nil {
		return err
	}
	lock, err := acquireLock(d.opts.StateDir, d.opts.Repo, d.opts.Socket)
	if err != nil {
		return err
	}
	defer lock.Unlock()

	ln, err := listen(d.opts.Socket)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.ctx = ctx
	go func() {
		select {
		case <-d.stop:
			cancel()
		case <-ctx.Done():
		}
	}()

	var conns sync.WaitGroup
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		d.accept(ctx, ln, &conns)
	}()
	defer func() {
		ln.Close()
		<-acceptDone
		conns.Wait()
		os.Remove(d.opts.Socket)
	}()
	d.log.Info("daemon listening", "repo", d.opts.Repo, "socket", d.opts.Socket, "pid", os.Getpid())

	if err := d.load(ctx); err != nil {
		d.fail(err)
		return err
	}
	defer d.close()

	if err := d.initialSync(ctx); err != nil && ctx.Err() == nil {
		d.bg.Wait()
		d.fail(err)
		return err
	}
	d.setState(api.StateReady)
	close(d.ready)
	if d.opts.IdleShutdown > 0 {
		d.bg.Add(1)
		go func() {
			defer d.bg.Done()
			d.idleShutdown(ctx)
		}()
	}
	if !d.opts.NoWatch {
		d.bg.Add(1)
		go func() {
			defer d.bg.Done()
			d.watch(ctx)
		}()
	}
	d.log.Info("ready", "pack_tokens", d.Status().PackTokens, "restored_tokens", d.restoredTokens())

	<-ctx.Done()
	d.setState(api.StateStopping)
	d.bg.Wait()
	d.log.Info("stopping: saving the prefix snapshot")
	// The serving context is gone; the final snapshot gets its own deadline.
	saveCtx, cancelSave := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelSave()
	d.prefixMu.Lock()
	err = d.saveSnapshot(saveCtx)
	d.prefixMu.Unlock()
	if err != nil {
		d.log.Error("final snapshot failed", "err", err)
	}
	return nil
}

func (d *Daemon) load(ctx context.Context) error {
	store, err := cache.Open(d.opts.StateDir)
	if err != nil {
		return fmt.Errorf("opening the cache in %s: %w", d.opts.StateDir, err)
	}
	// Clients' goroutines read these (status, sessions) while the model loads.
	d.mu.Lock()
	d.store = store
	d.mu.Unlock()
	eng, err := engine.Open(d.opts.Engine)
	if err != nil {
		d.mu.Lock()
		d.store = nil
		d.mu.Unlock()
		store.Close()
		return err
	}
	d.mu.Lock()
	d.eng = eng
	d.mu.Unlock()
	info := eng.Info()
	d.log.Info("model loaded", "model", info.Name, "params", info.Params, "experts", info.Experts, "context", info.ContextSize)
	return ctx.Err()
}

func (d *Daemon) close() {
	if d.eng != nil {
		d.eng.Close()
	}
	if d.store != nil {
		d.store.Close()
	}
}

func (d *Daemon) fail(err error) {
	d.log.Error("daemon failed", "err", err)
	d.mu.Lock()
	d.state = api.StateFailed
	d.failure = err
	d.mu.Unlock()
	select {
	case <-d.ready:
	default:
		close(d.ready)
	}
}

func (d *Daemon) setState(s string) {
	d.mu.Lock()
	d.state = s
	d.mu.Unlock()
}

func (d *Daemon) restoredTokens() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.restored
}

// idleShutdown stops the daemon once no question has been asked or answered
// for IdleShutdown.
func (d *Daemon) idleShutdown(ctx context.Context) {
	d.touch()
	tick := time.NewTicker(min(d.opts.IdleShutdown/4+time.Millisecond, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if d.active.Load() == 0 && time.Since(time.Unix(0, d.lastActive.Load())) >= d.opts.IdleShutdown {
				d.log.Info("idle: shutting down", "idle_shutdown", d.opts.IdleShutdown)
				d.Shutdown()
				return
			}
		}
	}
}

// residentBytes is this process's resident memory (Linux), 0 if unknown.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, rss int64
	if _, err := fmt.Sscan(string(b), &size, &rss); err != nil {
		return 0
	}
	return rss * int64(os.Getpagesize())
}

// touch records activity for the idle shutdown.
func (d *Daemon) touch() { d.lastActive.Store(time.Now().UnixNano()) }

// Shutdown stops the daemon as the shutdown method does.
func (d *Daemon) Shutdown() { d.stopOnce.Do(func() { close(d.stop) }) }

// waitReady blocks until the first sync is done, passing the progress of
// the startup prefill to progress meanwhile.
func (d *Daemon) waitReady(ctx context.Context, progress engine.Progress) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-d.ready:
			break wait
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			d.mu.Lock()
			p := d.progress
			d.mu.Unlock()
			if p != nil && progress != nil {
				progress(p.Done, p.Total)
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failure != nil {
		return &api.Error{Code: api.CodeNotReady, Message: "the lore daemon failed to start: " + d.failure.Error()}
	}
	return nil
}

// Status reports the daemon's state without waiting for the engine.
func (d *Daemon) Status() *api.Status {
	sessions := d.sessionCount()
	snapshots := d.snapshotList()
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &api.Status{
		Repo:            d.opts.Repo,
		PID:             os.Getpid(),
		State:           d.state,
		PrefilledTokens: d.prefilled,
		RestoredTokens:  d.restored,
		SnapshotBytes:   d.snapBytes,
		Omitted:         []api.Omitted{},
		UptimeSeconds:   time.Since(d.start).Seconds(),
		ModelPath:       d.opts.Engine.ModelPath,

		PrefillTokensPerSec: d.prefillRate,
		DecodeTokensPerSec:  d.decodeRate,
		ActiveQuestions:     int(d.active.Load()),
		MemoryBytes:         residentBytes(),
		StaleTokens:         d.staleTokens,
		OverlayTokens:       d.overlayTokens,
		Buffers:             len(d.buffers),
		LastPrefillTokens:   d.lastPrefill.Prefilled,
		LastPrefillMillis:   millis(d.lastPrefill.Elapsed),
		LastPrefillAt:       d.lastPrefillAt,
		Scans:               d.scans.Load(),
		Sessions:            sessions,
		Snapshots:           snapshots,
		TokenCacheHits:      d.tokenHits.Load(),
		TokenCacheMisses:    d.tokenMisses.Load(),
	}
	if d.failure != nil {
		st.Error = d.failure.Error()
	}
	if d.progress != nil {
		p := *d.progress
		st.Progress = &p
	}
	if d.eng != nil {
		info := d.eng.Info()
		st.Model = info.Name
		st.ContextSize = info.ContextSize
		st.KVTokens = d.eng.PrefixLen()
		_, st.QueuedQuestions = d.eng.Queue()
		bs := d.eng.BatchStats()
		st.BatchDecodes, st.BatchSteps = bs.Rounds, bs.Steps
	}
	if p := d.pack; p != nil {
		st.PackTokens = len(p.tokens)
		st.PackVersion = p.version
		st.Segments = len(p.pack.Segments)
		st.Files = p.files
		st.Skipped = len(p.pack.Skipped)
		st.Omitted = p.omitted
	}
	return st
}

func (d *Daemon) accept(ctx context.Context, ln net.Listener, conns *sync.WaitGroup) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				d.log.Error("accept failed", "err", err)
			}
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			d.serveConn(ctx, nc)
		}()
	}
}
