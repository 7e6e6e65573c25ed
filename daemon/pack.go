package daemon

import (
	"context"
	"fmt"
	"time"

	"lore/api"
	"lore/cache"
	"lore/engine"
	"lore/ingest"
	"lore/ingest/history"
	"lore/ingest/pack"
	"lore/ingest/scan"
)

// packState is a pack with its tokens: what sequence 0 should hold. It is
// never modified once made, so views share it.
type packState struct {
	pack    *ingest.Pack
	tokens  []engine.Token      // BOS (if any) + every segment's tokens
	marks   []cache.SegmentMark // where each segment ends in tokens
	version string
	files   int
	omitted []api.Omitted
	segs    map[string][]engine.Token // each segment's tokens, by hash
}

// chains lists the pack's segment chain hashes, in order.
func (ps *packState) chains() []string {
	out := make([]string, len(ps.marks))
	for i, m := range ps.marks {
		out[i] = m.Chain
	}
	return out
}

// budget is the pack's share of the context: the rest is kept for the
// question and the answer, and one token for BOS.
func (p *prefix) budget() int {
	return engine.PackBudget(p.eng.Info().ContextSize)
}

// scanned is one scan of the working tree; gen numbers the scans in the
// order they ran.
type scanned struct {
	res *scan.Result
	gen uint64
}

// scan lists the working tree as the pack should hold it: the files on disk
// with the open editor buffers in place of their files. Files unchanged by
// stat since the last scan are not read again.
func (p *prefix) scan(ctx context.Context) (scanned, error) {
	p.scanMu.Lock()
	so := p.opts.Scan
	so.Cache, so.Previous = p.store, p.lastScan
	res, err := scan.Scan(ctx, p.opts.Repo, so)
	if err == nil {
		p.lastScan = res
	}
	gen := p.scans.Add(1)
	p.scanMu.Unlock()
	if err != nil {
		return scanned{}, fmt.Errorf("scanning %s: %w", p.opts.Repo, err)
	}
	return scanned{scan.WithBuffers(res, p.buffers(), so), gen}, nil
}

// refreshLocked brings sequence 0 up to date with the working tree as seen
// (nil: as it is now), so that an answer sees it.
func (p *prefix) refreshLocked(ctx context.Context, seen *scanned, progress engine.Progress) (int, error) {
	ps, err := p.buildPackLocked(ctx, seen)
	if err != nil {
		return 0, err
	}
	return p.syncLocked(ctx, ps, progress)
}

// buildPackLocked brings the packer up to date with a scan of the
// repository: seen when it is newer than the last one applied, else a new
// one. The first time it lays the files out coldest first by git history;
// after that changed files go to the overlay, so the prefix before them
// stays valid.
func (p *prefix) buildPackLocked(ctx context.Context, seen *scanned) (*packState, error) {
	if seen == nil || seen.gen < p.appliedScan {
		// An older scan than the pack's would take changes back out.
		s, err := p.scan(ctx)
		if err != nil {
			return nil, err
		}
		seen = &s
	}
	p.appliedScan = seen.gen
	res := seen.res
	if err := p.switchBranchLocked(ctx); err != nil {
		return nil, err
	}
	if p.packer == nil {
		return p.layOutLocked(ctx, res)
	}
	if p.packer.Sync(res) > 0 && p.packer.MustCompact() {
		// Too much superseded text (a large commit, a branch switch), or
		// more than the context holds: compact before answering.
		if err := p.compactPackerLocked(ctx); err != nil {
			return nil, err
		}
	}
	return p.packStateLocked(p.packer.Pack())
}

// layOutLocked makes the packer, at start or after a branch switch, and
// restores the snapshot that fits it best.
func (p *prefix) layOutLocked(ctx context.Context, res *scan.Result) (*packState, error) {
	heat, err := p.heat(ctx)
	if err != nil {
		return nil, err
	}
	opts := pack.PrefixOptions(p.opts.Repo, heat.Order, p.budget(), p.tokens.count)
	// Resume the layout a snapshot was made with: what changed since
	// (while the daemon was away, or on another branch) goes to the
	// overlay instead of moving files.
	if pk, ps, name := p.resumeBestLocked(res, opts); pk != nil {
		p.packer = pk
		if name != "" {
			p.restoreLocked(name, ps)
		}
		if !pk.MustCompact() {
			return ps, nil
		}
		// What changed does not fit as an overlay: compact (the restored
		// prefix stays valid up to the first segment that moves).
		if err := p.compactPackerLocked(ctx); err != nil {
			return nil, err
		}
		return p.packStateLocked(pk.Pack())
	}
	p.packer = pack.NewPacker(res, opts, p.opts.Policy)
	ps, err := p.packStateLocked(p.packer.Pack())
	if err != nil {
		return nil, err
	}
	// A fresh layout in the same heat order may still match the branch's
	// snapshot, segment by segment.
	p.restoreLocked(p.snapName, ps)
	return ps, nil
}

// switchBranchLocked notices a checkout of another branch: the prefix is
// saved as the old branch's snapshot, and the pack is laid out again as the
// best saved snapshot (the new branch's own, when it has one), as at start.
func (p *prefix) switchBranchLocked(ctx context.Context) error {
	name := branchSnapshot(scan.Branch(p.opts.Repo))
	if name == p.snapName {
		return nil
	}
	if p.packer != nil {
		p.log.Info("branch switched: saving the old branch's prefix", "from", p.snapName, "to", name)
		if err := p.saveSnapshotLocked(ctx); err != nil {
			p.log.Warn("saving the old branch's snapshot failed", "err", err)
		}
	}
	p.snapName = name
	p.packer = nil
	p.saveMu.Lock()
	p.savedAt = nil
	p.saveMu.Unlock()
	return nil
}

// heat reads the git history's churn heat (cached in the store).
func (p *prefix) heat(ctx context.Context) (*history.Heat, error) {
	h, err := history.LoadHeat(ctx, p.opts.Repo, history.HeatOptions{Cache: p.store})
	if err != nil {
		return nil, fmt.Errorf("reading the git history of %s: %w", p.opts.Repo, err)
	}
	if h.CacheErr != nil {
		p.log.Warn("heat cache", "err", h.CacheErr)
	}
	return h, nil
}

// compactPackerLocked runs the rebuild the layout policy calls for, with
// the current heat order.
func (p *prefix) compactPackerLocked(ctx context.Context) error {
	heat, err := p.heat(ctx)
	if err != nil {
		return err
	}
	if rb := p.packer.Compact(heat.Order); rb.Kind != "" {
		p.log.Info("pack rebuilt", "kind", rb.Kind, "from", rb.From, "stale_removed", rb.Stale)
	}
	return nil
}

// packStateLocked tokenizes a pack (through the cache) into what sequence 0
// should hold.
func (p *prefix) packStateLocked(pk *ingest.Pack) (*packState, error) {
	ps := &packState{pack: pk, omitted: []api.Omitted{}}
	if bos, ok := p.eng.BOS(); ok {
		ps.tokens = append(ps.tokens, bos)
	}
	// Most segments are unchanged since the last pack: take their tokens
	// from memory rather than decoding them from the store at every question.
	ps.segs = make(map[string][]engine.Token, len(pk.Segments))
	for i, s := range pk.Segments {
		toks, ok := p.packTokens[s.Hash]
		if !ok {
			var err error
			if toks, err = p.tokens.segment(s); err != nil {
				return nil, err
			}
		}
		ps.segs[s.Hash] = toks
		if i == 0 && len(toks) > p.budget() {
			return nil, fmt.Errorf("a context of %d tokens is too small for lore's %d-token preamble: raise LORE_CTX or --ctx", p.eng.Info().ContextSize, len(toks))
		}
		ps.tokens = append(ps.tokens, toks...)
		ps.marks = append(ps.marks, cache.SegmentMark{Chain: s.Chain, End: len(ps.tokens)})
		if s.Kind == ingest.KindFile || s.Kind == ingest.KindOverlay {
			ps.files++
		}
	}
	for _, r := range pk.Reduced {
		reason := api.OmitSkeleton
		if r.To == ingest.KindMap {
			reason = api.OmitMap
		}
		ps.omitted = append(ps.omitted, api.Omitted{Path: r.Path, Reason: reason})
	}
	if n := len(pk.Segments); n > 0 {
		ps.version = pk.Segments[n-1].Chain[:12]
	}
	return ps, nil
}

// syncLocked makes sequence 0 hold ps and snapshots it when anything was
// prefilled.
func (p *prefix) syncLocked(ctx context.Context, ps *packState, progress engine.Progress) (int, error) {
	p.pack.Store(ps)
	p.packTokens = ps.segs
	report := func(done, total int) {
		p.statMu.Lock()
		p.stats.progress = &api.Progress{Done: done, Total: total}
		p.statMu.Unlock()
		if progress != nil {
			progress(done, total)
		}
	}
	if !p.eng.Holds(ps.tokens) {
		p.setState(api.StatePrefilling)
	}
	st, err := p.eng.Sync(ctx, ps.tokens, report)
	p.statMu.Lock()
	s := &p.stats
	s.prefilled += st.Prefilled
	if st.Prefilled > 0 {
		s.lastPrefill, s.lastPrefillAt = st, time.Now()
	}
	if st.Prefilled >= 256 && st.Elapsed > 0 {
		s.prefillRate = float64(st.Prefilled) / st.Elapsed.Seconds()
	}
	if p.packer != nil {
		ls := p.packer.Stats()
		s.staleTokens, s.overlayTokens = ls.Stale, ls.Overlay
	}
	s.progress = nil
	p.statMu.Unlock()
	if err != nil {
		return st.Prefilled, err
	}
	if st.Prefilled > 0 {
		p.log.Info("prefix synced", "reused", st.Reused, "prefilled", st.Prefilled, "seconds", st.Elapsed.Seconds())
		p.saveAsync()
	}
	p.setState(api.StateReady)
	return st.Prefilled, nil
}
