package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"lore/api"
	"lore/cache"
	"lore/engine"
	"lore/ingest"
	"lore/ingest/history"
	"lore/ingest/pack"
	"lore/ingest/scan"
)

// errTokensLost means a resumed segment's tokens are not in the cache.
var errTokensLost = errors.New("the token cache lacks a segment of the saved layout")

// emptyHash is the sha256 of the empty text.
const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// packState is a pack with its tokens: what sequence 0 should hold.
type packState struct {
	pack    *ingest.Pack
	tokens  []engine.Token      // BOS (if any) + every segment's tokens
	marks   []cache.SegmentMark // where each segment ends in tokens
	version string
	files   int
	omitted []api.Omitted
	segs    map[string][]engine.Token // each segment's tokens, by hash
}

// budget is the pack's share of the context: the rest is kept for the
// question and the answer, and one token for BOS.
func (d *Daemon) budget() int {
	n := d.eng.Info().ContextSize
	return n - engine.QuestionRoom(n) - 1
}

// buildPack brings the packer up to date with a scan of the repository:
// seen when it is newer than the last one applied, else a new one. The
// first time it lays the files out coldest first by git history; after that
// changed files go to the overlay, so the prefix before them stays valid.
// Callers hold prefixMu exclusively.
func (d *Daemon) buildPack(ctx context.Context, seen *scanned) (*packState, error) {
	if seen == nil || seen.gen < d.appliedScan {
		// An older scan than the pack's would take changes back out.
		s, err := d.scan(ctx)
		if err != nil {
			return nil, err
		}
		seen = &s
	}
	d.appliedScan = seen.gen
	res := seen.res
	if err := d.switchBranch(ctx); err != nil {
		return nil, err
	}
	if d.packer == nil {
		return d.layOut(ctx, res)
	}
	if d.packer.Sync(res) > 0 && d.packer.MustCompact() {
		// Too much superseded text (a large commit, a branch switch), or
		// more than the context holds: compact before answering.
		if err := d.compactPacker(ctx); err != nil {
			return nil, err
		}
	}
	return d.packState(d.packer.Pack())
}

// layOut makes the packer, at start or after a branch switch, and restores
// the snapshot that fits it best. Callers hold prefixMu exclusively.
func (d *Daemon) layOut(ctx context.Context, res *scan.Result) (*packState, error) {
	heat, err := d.heat(ctx)
	if err != nil {
		return nil, err
	}
	opts := pack.Options{
		RepoName: filepath.Base(d.opts.Repo),
		Order:    heat.Order,
		Budget:   d.budget(),
		Count:    d.countTokens,
	}
	// Resume the layout a snapshot was made with: what changed since
	// (while the daemon was away, or on another branch) goes to the
	// overlay instead of moving files.
	if p, ps, name := d.resumeBest(res, opts); p != nil {
		d.packer = p
		if name != "" {
			d.restore(name, ps)
		}
		if !p.MustCompact() {
			return ps, nil
		}
		// What changed does not fit as an overlay: compact (the restored
		// prefix stays valid up to the first segment that moves).
		if err := d.compactPacker(ctx); err != nil {
			return nil, err
		}
		return d.packState(p.Pack())
	}
	d.packer = pack.NewPacker(res, opts, d.opts.Policy)
	ps, err := d.packState(d.packer.Pack())
	if err != nil {
		return nil, err
	}
	// A fresh layout in the same heat order may still match the branch's
	// snapshot, segment by segment.
	d.restore(d.snapName, ps)
	return ps, nil
}

// scan lists the working tree as the pack should hold it: the files on disk
// with the open editor buffers in place of their files. Files unchanged by
// stat since the last scan are not read again.
func (d *Daemon) scan(ctx context.Context) (scanned, error) {
	d.scanMu.Lock()
	so := d.opts.Scan
	so.Cache, so.Previous = d.store, d.lastScan
	res, err := scan.Scan(ctx, d.opts.Repo, so)
	if err == nil {
		d.lastScan = res
	}
	gen := d.scans.Add(1)
	d.scanMu.Unlock()
	if err != nil {
		return scanned{}, fmt.Errorf("scanning %s: %w", d.opts.Repo, err)
	}
	return scanned{scan.WithBuffers(res, d.bufferContents(), so), gen}, nil
}

// scanned is one scan of the working tree; gen numbers the scans in the
// order they ran.
type scanned struct {
	res *scan.Result
	gen uint64
}

// fresh reports whether sequence 0 holds the pack of the working tree as it
// is now, and returns the scan that tells. Callers hold prefixMu, shared is
// enough: questions check at once.
func (d *Daemon) fresh(ctx context.Context) (bool, scanned, error) {
	s, err := d.scan(ctx)
	if err != nil {
		return false, s, err
	}
	d.mu.Lock()
	ps := d.pack
	d.mu.Unlock()
	return d.packer != nil && ps != nil && !d.packer.Differs(s.res) && d.eng.Holds(ps.tokens), s, nil
}

// switchBranch notices a checkout of another branch: the prefix is saved
// as the old branch's snapshot, and the pack is laid out again as the best
// saved snapshot (the new branch's own, when it has one), as at start.
// Callers hold prefixMu exclusively.
func (d *Daemon) switchBranch(ctx context.Context) error {
	name := branchSnapshot(scan.Branch(d.opts.Repo))
	if name == d.snapName {
		return nil
	}
	if d.packer != nil {
		d.log.Info("branch switched: saving the old branch's prefix", "from", d.snapName, "to", name)
		if err := d.saveSnapshot(ctx); err != nil {
			d.log.Warn("saving the old branch's snapshot failed", "err", err)
		}
	}
	d.snapName = name
	d.packer = nil
	d.mu.Lock()
	d.savedAt = nil
	d.mu.Unlock()
	return nil
}

// legacySnapshot is the single snapshot of earlier versions.
const legacySnapshot = "main"

// chains lists the pack's segment chain hashes, in order.
func (ps *packState) chains() []string {
	out := make([]string, len(ps.marks))
	for i, m := range ps.marks {
		out[i] = m.Chain
	}
	return out
}

// heat reads the git history's churn heat (cached in the store).
func (d *Daemon) heat(ctx context.Context) (*history.Heat, error) {
	h, err := history.LoadHeat(ctx, d.opts.Repo, history.HeatOptions{Cache: d.store})
	if err != nil {
		return nil, fmt.Errorf("reading the git history of %s: %w", d.opts.Repo, err)
	}
	if h.CacheErr != nil {
		d.log.Warn("heat cache", "err", h.CacheErr)
	}
	return h, nil
}

// compactPacker runs the rebuild the layout policy calls for, with the
// current heat order. Callers hold prefixMu exclusively.
func (d *Daemon) compactPacker(ctx context.Context) error {
	heat, err := d.heat(ctx)
	if err != nil {
		return err
	}
	if rb := d.packer.Compact(heat.Order); rb.Kind != "" {
		d.log.Info("pack rebuilt", "kind", rb.Kind, "from", rb.From, "stale_removed", rb.Stale)
	}
	return nil
}

// packState tokenizes a pack (through the cache) into what sequence 0
// should hold. Callers hold prefixMu exclusively.
func (d *Daemon) packState(p *ingest.Pack) (*packState, error) {
	ps := &packState{pack: p, omitted: []api.Omitted{}}
	if bos, ok := d.eng.BOS(); ok {
		ps.tokens = append(ps.tokens, bos)
	}
	// Most segments are unchanged since the last pack: take their tokens
	// from memory rather than decoding them from the store at every question.
	ps.segs = make(map[string][]engine.Token, len(p.Segments))
	for i, s := range p.Segments {
		toks, ok := d.packTokens[s.Hash]
		if !ok {
			var err error
			if toks, err = d.segmentTokens(s); err != nil {
				return nil, err
			}
		}
		ps.segs[s.Hash] = toks
		if i == 0 && len(toks) > d.budget() {
			return nil, fmt.Errorf("a context of %d tokens is too small for lore's %d-token preamble: raise LORE_CTX or --ctx", d.eng.Info().ContextSize, len(toks))
		}
		ps.tokens = append(ps.tokens, toks...)
		ps.marks = append(ps.marks, cache.SegmentMark{Chain: s.Chain, End: len(ps.tokens)})
		if s.Kind == ingest.KindFile || s.Kind == ingest.KindOverlay {
			ps.files++
		}
	}
	for _, r := range p.Reduced {
		reason := api.OmitSkeleton
		if r.To == ingest.KindMap {
			reason = api.OmitMap
		}
		ps.omitted = append(ps.omitted, api.Omitted{Path: r.Path, Reason: reason})
	}
	if n := len(p.Segments); n > 0 {
		ps.version = p.Segments[n-1].Chain[:12]
	}
	return ps, nil
}

// countTokens counts a text's tokens with the model's tokenizer, through the
// token cache.
func (d *Daemon) countTokens(text string) int {
	sum := sha256.Sum256([]byte(text))
	toks, _ := d.tokens(hex.EncodeToString(sum[:]), text)
	return len(toks)
}

// segmentTokens tokenizes a segment, through the cache: a segment's tokens
// depend only on its text and the tokenizer.
func (d *Daemon) segmentTokens(s ingest.Segment) ([]engine.Token, error) {
	return d.tokens(s.Hash, s.Text)
}

func (d *Daemon) tokens(hash, text string) ([]engine.Token, error) {
	tk := d.eng.TokenizerFingerprint()
	if toks, ok, err := d.store.Tokens(tk, hash); err == nil && ok {
		d.tokenHits.Add(1)
		return toks, nil
	} else if err != nil {
		d.log.Warn("token cache read failed", "err", err)
	}
	if text == "" && hash != emptyHash {
		// A resumed segment whose tokens the cache no longer has.
		return nil, errTokensLost
	}
	d.tokenMisses.Add(1)
	toks := d.eng.Tokenize(text)
	if err := d.store.PutTokens(tk, hash, toks); err != nil {
		d.log.Warn("token cache write failed", "err", err)
	}
	return toks, nil
}

// initialSync builds the pack, restores the longest valid prefix from the
// snapshot and prefills the rest.
func (d *Daemon) initialSync(ctx context.Context) error {
	d.prefixMu.Lock()
	defer d.prefixMu.Unlock()
	// Before snapshots were kept per branch, there was one named "main".
	if err := d.store.DeleteSnapshot(legacySnapshot); err == nil {
		d.store.Delete(layoutKey(legacySnapshot))
	}
	ps, err := d.buildPack(ctx, nil)
	if err != nil {
		return err
	}
	_, err = d.syncLocked(ctx, ps, nil)
	return err
}

// maintainIdle is how long the daemon must be without questions before a
// background rebuild may take the prefix.
const maintainIdle = time.Second

// maintainAsync runs, in the background, the rebuild the layout policy
// calls for (folding the overlay into the warm tier, or part of the cold
// base), and syncs the prefix to it. Questions wait for it only if they come
// while it prefills.
func (d *Daemon) maintainAsync(ctx context.Context) {
	if !d.maintaining.CompareAndSwap(false, true) {
		return
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		defer d.maintaining.Store(false)
		// Background work comes last: it waits until no question has run
		// for maintainIdle (a rebuild takes the prefix exclusively while it
		// prefills, and questions often come in runs).
		for d.active.Load() > 0 || time.Since(time.Unix(0, d.lastActive.Load())) < maintainIdle {
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		d.prefixMu.Lock()
		defer d.prefixMu.Unlock()
		if d.packer == nil {
			return
		}
		v := d.packer.Version()
		if err := d.compactPacker(ctx); err != nil {
			d.log.Warn("background rebuild failed", "err", err)
			return
		}
		if d.packer.Version() == v {
			return
		}
		ps, err := d.packState(d.packer.Pack())
		if err == nil {
			_, err = d.syncLocked(ctx, ps, nil)
		}
		if err != nil && ctx.Err() == nil {
			d.log.Warn("background rebuild failed", "err", err)
		}
	}()
}

// refreshLocked brings sequence 0 up to date with the working tree as seen
// (nil: as it is now), so that an answer sees it. Callers hold prefixMu.
func (d *Daemon) refreshLocked(ctx context.Context, seen *scanned, progress engine.Progress) (int, error) {
	ps, err := d.buildPack(ctx, seen)
	if err != nil {
		return 0, err
	}
	return d.syncLocked(ctx, ps, progress)
}

// syncLocked makes sequence 0 hold ps and snapshots it when anything was
// prefilled. Callers hold prefixMu exclusively.
func (d *Daemon) syncLocked(ctx context.Context, ps *packState, progress engine.Progress) (int, error) {
	d.mu.Lock()
	d.pack = ps
	d.mu.Unlock()
	d.packTokens = ps.segs
	report := func(done, total int) {
		d.mu.Lock()
		d.progress = &api.Progress{Done: done, Total: total}
		d.mu.Unlock()
		if progress != nil {
			progress(done, total)
		}
	}
	if !d.eng.Holds(ps.tokens) {
		d.setSyncState(api.StatePrefilling)
	}
	st, err := d.eng.Sync(ctx, ps.tokens, report)
	d.mu.Lock()
	d.prefilled += st.Prefilled
	if st.Prefilled > 0 {
		d.lastPrefill, d.lastPrefillAt = st, time.Now()
	}
	if st.Prefilled >= 256 && st.Elapsed > 0 {
		d.prefillRate = float64(st.Prefilled) / st.Elapsed.Seconds()
	}
	if d.packer != nil {
		ls := d.packer.Stats()
		d.staleTokens, d.overlayTokens = ls.Stale, ls.Overlay
	}
	d.progress = nil
	d.mu.Unlock()
	if err != nil {
		return st.Prefilled, err
	}
	if st.Prefilled > 0 {
		d.log.Info("prefix synced", "reused", st.Reused, "prefilled", st.Prefilled, "seconds", st.Elapsed.Seconds())
		d.saveAsync(ctx)
	}
	d.setSyncState(api.StateReady)
	return st.Prefilled, nil
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
