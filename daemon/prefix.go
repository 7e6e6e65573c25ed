package daemon

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"lore/api"
	"lore/cache"
	"lore/engine"
	"lore/ingest"
	"lore/ingest/pack"
	"lore/ingest/scan"
)

// prefix owns what sequence 0 of the engine holds: the packer that lays the
// repository out, the pack synced to the engine with its tokens, and the
// per-branch snapshots of it. Questions see it through views (acquire): the
// prefix cannot move while a view is out, so a sync waits for every view to
// be released, and views taken meanwhile wait for the sync.
type prefix struct {
	opts     Options
	log      *slog.Logger
	store    *cache.Store
	eng      engine.Backend
	life     context.Context // background rebuilds and snapshots run in it
	activity *activity
	buffers  func() map[string][]byte // editor buffers, packed instead of their files
	setState func(string)             // the daemon's state follows the syncs
	tokens   *tokenCache

	// mu orders the prefix: a sync holds it exclusively, each view shared.
	// It guards the fields below; methods named ...Locked run with it held
	// exclusively unless their comment says shared is enough.
	mu          sync.RWMutex
	packer      *pack.Packer
	snapName    string                    // the current branch's snapshot (see branchSnapshot)
	appliedScan uint64                    // the scan the packer holds
	packTokens  map[string][]engine.Token // segment tokens of the pack last synced, by hash
	// pack is what sequence 0 should hold; set under mu, status reads it
	// without.
	pack atomic.Pointer[packState]

	scanMu   sync.Mutex // guards lastScan: questions scan concurrently
	lastScan *scan.Result
	scans    atomic.Uint64 // scans run, counted under scanMu so that their numbers follow their order

	saveMu  sync.Mutex     // one snapshot write at a time; guards savedAt
	savedAt []engine.Token // tokens covered by the last snapshot

	statMu sync.Mutex // guards stats
	stats  prefixStats

	maintaining atomic.Bool    // a background rebuild is on its way
	savePending atomic.Bool    // a background snapshot waits to run
	bg          sync.WaitGroup // background rebuilds and snapshots
}

// prefixStats are the prefix's numbers that status reports.
type prefixStats struct {
	progress                   *api.Progress // of the prefill running, if any
	prefilled, restored        int
	snapBytes                  int64
	prefillRate                float64 // tokens per second, last measured
	lastPrefill                engine.SyncStats
	lastPrefillAt              time.Time
	staleTokens, overlayTokens int                  // of the pack last synced
	discarded                  *api.SnapshotDiscard // the last snapshot discarded
}

// view is the prefix as one question sees it: sequence 0 holds its pack
// until the view is released, and nothing in it changes.
type view struct {
	*packState
	prefilled int            // tokens acquiring it had to prefill
	branch    string         // the current branch's snapshot
	reduced   []*ingest.File // files the pack does not hold in full
	// scanned is the scan (editor buffers applied) the pack was found
	// fresh against: what a question's location may read.
	scanned *scan.Result
}

func newPrefix(life context.Context, d *Daemon, store *cache.Store, eng engine.Backend) *prefix {
	return &prefix{
		opts:     d.opts,
		log:      d.log,
		store:    store,
		eng:      eng,
		life:     life,
		activity: d.activity,
		buffers:  d.bufferContents,
		setState: d.setSyncState,
		tokens:   &tokenCache{store: store, eng: eng, log: d.log},
	}
}

// acquire returns a view of the prefix with sequence 0 holding the pack of
// the working tree as it is now, and the function that releases it.
// Questions check freshness together; only when the tree changed does one
// sync, alone, before it takes its view.
func (p *prefix) acquire(ctx context.Context, progress engine.Progress) (*view, func(), error) {
	p.mu.RLock()
	s, err := p.scan(ctx)
	if err != nil {
		p.mu.RUnlock()
		return nil, nil, err
	}
	if ps := p.pack.Load(); p.packer != nil && ps != nil && !p.packer.Differs(s.res) && p.eng.Holds(ps.tokens) {
		return p.viewLocked(0, s.res)
	}
	p.mu.RUnlock()
	p.mu.Lock()
	// The scan that found the change serves, unless a newer one was
	// applied meanwhile.
	prefilled, err := p.refreshLocked(ctx, &s, progress)
	p.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	// A rebuild may slip in between: it keeps the pack fresh, and the
	// engine holds its prefix once it lets go.
	p.mu.RLock()
	return p.viewLocked(prefilled, s.res)
}

// viewLocked makes the view of the prefix as it is; mu is held shared, and
// the release it returns lets go of it. Once released, the layout is tidied
// in the background if the policy says so.
func (p *prefix) viewLocked(prefilled int, scanned *scan.Result) (*view, func(), error) {
	v := &view{packState: p.pack.Load(), prefilled: prefilled, branch: p.snapName, reduced: p.packer.ReducedFiles(), scanned: scanned}
	var once sync.Once
	return v, func() {
		once.Do(func() {
			p.mu.RUnlock()
			p.maintainAsync()
		})
	}, nil
}

// refresh brings sequence 0 up to date with the working tree, as the
// watcher does after files change, and returns the tokens it prefilled.
func (p *prefix) refresh(ctx context.Context) (int, error) {
	p.mu.Lock()
	prefilled, err := p.refreshLocked(ctx, nil, nil)
	p.mu.Unlock()
	if err == nil && prefilled > 0 {
		p.maintainAsync()
	}
	return prefilled, err
}

// initialSync builds the pack, restores the longest valid prefix from the
// snapshots and prefills the rest.
func (p *prefix) initialSync(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Before snapshots were kept per branch, there was one named "main".
	if err := p.store.DeleteSnapshot(legacySnapshot); err == nil {
		p.store.Delete(layoutKey(legacySnapshot))
	}
	ps, err := p.buildPackLocked(ctx, nil)
	if err != nil {
		return err
	}
	_, err = p.syncLocked(ctx, ps, nil)
	return err
}

// wait waits for the background rebuilds and snapshots, which end with
// the life context.
func (p *prefix) wait() { p.bg.Wait() }

// save snapshots the prefix now, as the daemon stops.
func (p *prefix) save(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.saveSnapshotLocked(ctx)
}

// lastScanned is the newest scan of the working tree, nil before the first.
func (p *prefix) lastScanned() *scan.Result {
	p.scanMu.Lock()
	defer p.scanMu.Unlock()
	return p.lastScan
}

// prefillProgress is the progress of the prefill running, nil when none
// runs.
func (p *prefix) prefillProgress() *api.Progress {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return p.stats.progress
}

// prefillRate is the prefill speed last measured, in tokens per second
// (0 before the first prefill of at least 256 tokens).
func (p *prefix) prefillRate() float64 {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return p.stats.prefillRate
}

// restoredTokens is how many tokens snapshots gave back so far.
func (p *prefix) restoredTokens() int {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return p.stats.restored
}

// status fills in the prefix's part of the daemon's status.
func (p *prefix) status(st *api.Status) {
	p.statMu.Lock()
	s := p.stats
	p.statMu.Unlock()
	st.PrefilledTokens = s.prefilled
	st.RestoredTokens = s.restored
	st.SnapshotBytes = s.snapBytes
	st.PrefillTokensPerSec = s.prefillRate
	st.StaleTokens, st.OverlayTokens = s.staleTokens, s.overlayTokens
	st.LastPrefillTokens = s.lastPrefill.Prefilled
	st.LastPrefillMillis = millis(s.lastPrefill.Elapsed)
	st.LastPrefillAt = s.lastPrefillAt
	st.SnapshotDiscarded = s.discarded
	st.Scans = p.scans.Load()
	st.TokenCacheHits = p.tokens.hits.Load()
	st.TokenCacheMisses = p.tokens.misses.Load()
	if s.progress != nil {
		pr := *s.progress
		st.Progress = &pr
	}
	if ps := p.pack.Load(); ps != nil {
		st.PackTokens = len(ps.tokens)
		st.PackVersion = ps.version
		st.Segments = len(ps.pack.Segments)
		st.Files = ps.files
		st.Skipped = len(ps.pack.Skipped)
		st.Omitted = ps.omitted
	}
}

// maintainIdle is how long the daemon must be without questions before a
// background rebuild may take the prefix.
const maintainIdle = time.Second

// maintainAsync runs, in the background, the rebuild the layout policy
// calls for (folding the overlay into the warm tier, or part of the cold
// base), and syncs the prefix to it. Questions wait for it only if they come
// while it prefills.
func (p *prefix) maintainAsync() {
	if p.life.Err() != nil || !p.maintaining.CompareAndSwap(false, true) {
		return
	}
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		defer p.maintaining.Store(false)
		// Background work comes last: it waits until no question has run
		// for maintainIdle (a rebuild takes the prefix exclusively while it
		// prefills, and questions often come in runs).
		if p.activity.wait(p.life, maintainIdle) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.packer == nil {
			return
		}
		v := p.packer.Version()
		if err := p.compactPackerLocked(p.life); err != nil {
			p.log.Warn("background rebuild failed", "err", err)
			return
		}
		if p.packer.Version() == v {
			return
		}
		ps, err := p.packStateLocked(p.packer.Pack())
		if err == nil {
			_, err = p.syncLocked(p.life, ps, nil)
		}
		if err != nil && p.life.Err() == nil {
			p.log.Warn("background rebuild failed", "err", err)
		}
	}()
}

// saveAsync snapshots the prefix in the background, so that the question
// that caused a prefill does not also wait for the disk. It holds mu
// shared: questions go on, the next sync waits for the state copy.
func (p *prefix) saveAsync() {
	if p.life.Err() != nil || !p.savePending.CompareAndSwap(false, true) {
		return // the pending save will write the newest prefix
	}
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		// Copying the state holds the engine for tens of milliseconds per
		// 100 MB: not while a question runs (the one that prefilled is
		// usually about to decode). The final snapshot at shutdown
		// covers a daemon that never becomes idle.
		err := p.activity.wait(p.life, 0)
		p.savePending.Store(false)
		if err != nil {
			return
		}
		p.mu.RLock()
		err = p.saveSnapshotLocked(p.life)
		p.mu.RUnlock()
		if err != nil && p.life.Err() == nil {
			p.log.Warn("snapshot failed", "err", err)
		}
		// The state copy (tens of MB) is garbage now. Collected here, while
		// the daemon is idle, it no longer stalls the refresh after the next
		// edit: that collection cost the watcher's edit-to-fresh about 30 ms.
		runtime.GC()
	}()
}
