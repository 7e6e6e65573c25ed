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
	"path/filepath"
	"sync"
	"time"

	"lore/api"
	"lore/cache"
	"lore/config"
	"lore/engine"
	"lore/ingest/layout"
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
	// RetrievalLatency is the prefill time the files retrieved for one
	// question may add before its first token (engine.RetrievalAllowance;
	// 0: always the whole room).
	RetrievalLatency time.Duration
	Logger           *slog.Logger // nil = slog.Default()

	// OpenEngine opens the engine the daemon serves from (a remote one,
	// say); nil opens the in-process engine with Engine.
	OpenEngine func() (engine.Backend, error)
	// EngineLabel names the engine in status ("" = "local").
	EngineLabel string
}

// Daemon serves one repository.
type Daemon struct {
	opts  Options
	log   *slog.Logger
	start time.Time

	ready    chan struct{} // closed once the first sync finished (or failed)
	stopOnce sync.Once
	stop     chan struct{} // closed by the shutdown method

	activity *activity     // questions running, and since when none has
	nudges   chan struct{} // editor buffers changed (see nudge)
	maxMsg   int           // one message's cap on the socket; 0 = api.MaxMessageBytes (tests lower it)

	mu sync.Mutex // guards the fields below
	// store, eng and prefix are set once as they open; after ready is
	// closed they are read without mu.
	store      *cache.Store
	eng        engine.Backend
	prefix     *prefix
	state      string
	failure    error
	decodeRate float64 // tokens per second, last measured
	// questionRate is the prefill speed of the last question that
	// prefilled at least 256 tokens after the prefix (retrievalRate).
	questionRate float64
	// lastRetrieved and lastFull are what the last question answered
	// retrieved, and which of those in full (lore status).
	lastRetrieved, lastFull []string
	buffers                 map[string]buffer                // unsaved editor buffers, by path below the root
	cancels                 map[cancelKey]context.CancelFunc // asks in flight

	// lastPrompt and lastCached are the last answer's prompt tokens and
	// the part the engine had cached (status).
	lastPrompt, lastCached int

	sessionLocks sessionLocks

	notes chan api.PendingNote // commits to summarize as git notes (notes.go)

	notesMu     sync.Mutex
	notesQueued map[api.NoteParams]struct{} // the notes in the queue (queueNote)

	bg sync.WaitGroup // the watcher, the idle shutdown, the notes writer and filler
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
		opts:        opts,
		log:         opts.Logger,
		ready:       make(chan struct{}),
		stop:        make(chan struct{}),
		activity:    newActivity(),
		nudges:      make(chan struct{}, 1),
		notes:       make(chan api.PendingNote, maxQueuedNotes),
		notesQueued: map[api.NoteParams]struct{}{},
		buffers:     map[string]buffer{},
		cancels:     map[cancelKey]context.CancelFunc{},
		state:       api.StateLoading,
	}, nil
}

// Run serves until ctx is cancelled or a client calls shutdown, then saves
// the prefix snapshot and returns. Errors that stop the daemon from starting
// (lock held, no model, no library) are returned.
func (d *Daemon) Run(ctx context.Context) error {
	d.start = time.Now()
	if err := d.makeStateDir(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ep, err := d.openEndpoint(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cancel()
		ep.close()
	}()
	go func() {
		select {
		case <-d.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	d.log.Info("daemon listening", "repo", d.opts.Repo, "socket", d.opts.Socket, "pid", os.Getpid())

	if err := d.load(ctx); err != nil {
		d.fail(err)
		return err
	}
	defer d.close()

	if err := d.prefix.initialSync(ctx); err != nil && ctx.Err() == nil {
		d.prefix.wait()
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
	d.bg.Add(2)
	go func() {
		defer d.bg.Done()
		d.writeNotes(ctx)
	}()
	go func() {
		defer d.bg.Done()
		d.fillPendingNotes(ctx)
	}()
	if !d.opts.NoWatch {
		d.bg.Add(1)
		go func() {
			defer d.bg.Done()
			d.watch(ctx)
		}()
	}
	d.log.Info("ready", "pack_tokens", d.Status().PackTokens, "restored_tokens", d.prefix.restoredTokens())

	<-ctx.Done()
	d.setState(api.StateStopping)
	d.bg.Wait()
	d.prefix.wait()
	d.log.Info("stopping: saving the prefix snapshot")
	// The serving context is gone; the final snapshot gets its own deadline.
	saveCtx, cancelSave := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelSave()
	if err := d.prefix.save(saveCtx); err != nil {
		d.log.Error("final snapshot failed", "err", err)
	}
	return nil
}

// makeStateDir creates the repository's state folder. Folders' names there
// reveal repositories and branches, so they are private (0700), those an
// older lore made 0755 included; the repos/ folder above the default one too.
func (d *Daemon) makeStateDir() error {
	if d.opts.StateDir == config.RepoStateDir(d.opts.Repo) {
		if err := config.MkdirPrivate(filepath.Dir(d.opts.StateDir)); err != nil {
			return err
		}
	}
	return config.MkdirPrivate(d.opts.StateDir)
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
	d.writeSessionIndex()
	open := d.opts.OpenEngine
	if open == nil {
		open = func() (engine.Backend, error) { return engine.Open(d.opts.Engine) }
	}
	eng, err := open()
	if err != nil {
		d.mu.Lock()
		d.store = nil
		d.mu.Unlock()
		store.Close()
		return err
	}
	d.mu.Lock()
	d.eng = eng
	// Background rebuilds and snapshots live as long as the daemon serves.
	d.prefix = newPrefix(ctx, d, store, eng)
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

// idleShutdown stops the daemon once no question has been asked or answered
// for IdleShutdown.
func (d *Daemon) idleShutdown(ctx context.Context) {
	d.activity.touch()
	if d.activity.wait(ctx, d.opts.IdleShutdown) == nil {
		d.log.Info("idle: shutting down", "idle_shutdown", d.opts.IdleShutdown)
		d.Shutdown()
	}
}

// setSyncState moves the state between prefilling and ready as syncs start
// and end. Loading may only become prefilling (Run declares ready once the
// first sync is done), and stopping and failed stay as they are.
func (d *Daemon) setSyncState(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state == api.StatePrefilling || d.state == api.StateReady || (s == api.StatePrefilling && d.state == api.StateLoading) {
		d.state = s
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

// Shutdown stops the daemon as the shutdown method does.
func (d *Daemon) Shutdown() { d.stopOnce.Do(func() { close(d.stop) }) }

// isReady reports whether the first sync is done.
func (d *Daemon) isReady() bool {
	select {
	case <-d.ready:
		return true
	default:
		return false
	}
}

// loadingProgress says how far the first prefill is, as " (N% prefilled)",
// or "" when it has not started.
func (d *Daemon) loadingProgress() string {
	d.mu.Lock()
	pm := d.prefix
	d.mu.Unlock()
	if pm == nil {
		return ""
	}
	if p := pm.prefillProgress(); p != nil && p.Total > 0 {
		return fmt.Sprintf(" (%d%% prefilled)", p.Done*100/p.Total)
	}
	return ""
}

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
			pm := d.prefix
			d.mu.Unlock()
			if pm == nil || progress == nil {
				continue
			}
			if p := pm.prefillProgress(); p != nil {
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
	disk := d.diskStatus()
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &api.Status{
		Repo:               d.opts.Repo,
		PID:                os.Getpid(),
		State:              d.state,
		Omitted:            []api.Omitted{},
		UptimeSeconds:      time.Since(d.start).Seconds(),
		ModelPath:          d.opts.Engine.ModelPath,
		DecodeTokensPerSec: d.decodeRate,
		ActiveQuestions:    d.activity.questions(),
		MemoryBytes:        residentBytes(),
		Buffers:            len(d.buffers),
		Sessions:           sessions,
		Snapshots:          snapshots,
		Disk:               disk,
		IdleSeconds:        d.activity.idle(d.start).Seconds(),
	}
	if d.failure != nil {
		st.Error = d.failure.Error()
	}
	if d.prefix != nil {
		d.prefix.status(st)
	}
	if d.eng != nil {
		info := d.eng.Info()
		st.Model = info.Name
		st.ContextSize = info.ContextSize
		st.KVTokens = d.eng.PrefixLen()
		st.QuestionPrefillTokensPerSec = d.questionRate
		st.Engine = d.opts.EngineLabel
		if st.Engine == "" {
			st.Engine = "local"
		}
		st.LastPromptTokens, st.LastCachedTokens = d.lastPrompt, d.lastCached
		st.LastRetrieved, st.LastRetrievedFull = d.lastRetrieved, d.lastFull
		rate := d.questionRate
		if rate <= 0 {
			rate = st.PrefillTokensPerSec
		}
		st.RetrievalAllowance = engine.RetrievalAllowance(engine.RetrievalRoom(info.ContextSize, false), rate, d.opts.RetrievalLatency)
		_, st.QueuedQuestions = d.eng.Queue()
		bs := d.eng.BatchStats()
		st.BatchDecodes, st.BatchSteps = bs.Rounds, bs.Steps
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
		// The socket is private, but its folder may be opened up by hand,
		// and what a client sends reaches the engine and the cache.
		if uid, err := api.PeerUID(nc); err != nil {
			d.log.Warn("refused a client whose user cannot be told", "err", err)
			nc.Close()
			continue
		} else if uid != os.Geteuid() {
			d.log.Warn("refused a client of another user", "uid", uid)
			nc.Close()
			continue
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			d.serveConn(ctx, nc)
		}()
	}
}
