package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"lore/api"
	"lore/cache"
	"lore/engine"
	"lore/ingest"
)

// packState is a pack with its tokens: what sequence 0 should hold.
type packState struct {
	pack    *ingest.Pack
	tokens  []engine.Token      // BOS (if any) + every segment's tokens
	marks   []cache.SegmentMark // where each segment ends in tokens
	version string
	files   int
	omitted []api.Omitted
}

// questionReserve is the part of the context kept free for questions and
// answers: a sixteenth, at least 512 and at most 8192 tokens.
func questionReserve(ctxSize int) int {
	return min(max(ctxSize/16, 512), 8192)
}

// buildPack scans the repository and returns the pack that fits the context.
func (d *Daemon) buildPack(ctx context.Context) (*packState, error) {
	res, err := ingest.Scan(ctx, d.opts.Repo, ingest.ScanOptions{})
	if err != nil {
		return nil, fmt.Errorf("scanning %s: %w", d.opts.Repo, err)
	}
	full := ingest.BuildPack(res, ingest.PackOptions{RepoName: filepath.Base(d.opts.Repo)})

	byHash := make(map[string][]engine.Token, len(full.Segments))
	counts := make([]int, len(full.Segments))
	for i, s := range full.Segments {
		toks, err := d.segmentTokens(s)
		if err != nil {
			return nil, err
		}
		byHash[s.Hash] = toks
		counts[i] = len(toks)
	}
	var prefix []engine.Token
	if bos, ok := d.eng.BOS(); ok {
		prefix = append(prefix, bos)
	}
	budget := d.eng.Info().ContextSize - questionReserve(d.eng.Info().ContextSize) - len(prefix)
	p := full.Fit(budget, func(i int) int { return counts[i] })

	if counts[0] > budget {
		return nil, fmt.Errorf("a context of %d tokens is too small for lore's %d-token preamble: raise LORE_CTX or --ctx", d.eng.Info().ContextSize, counts[0])
	}
	ps := &packState{pack: p, tokens: prefix, omitted: []api.Omitted{}}
	for _, s := range p.Segments {
		ps.tokens = append(ps.tokens, byHash[s.Hash]...)
		ps.marks = append(ps.marks, cache.SegmentMark{Chain: s.Chain, End: len(ps.tokens)})
		if s.Kind == ingest.KindFile {
			ps.files++
		}
	}
	for _, path := range p.Omitted {
		ps.omitted = append(ps.omitted, api.Omitted{Path: path, Reason: "does not fit the context"})
	}
	if n := len(p.Segments); n > 0 {
		ps.version = p.Segments[n-1].Chain[:12]
	}
	return ps, nil
}

// segmentTokens tokenizes a segment, through the cache: a segment's tokens
// depend only on its text and the tokenizer.
func (d *Daemon) segmentTokens(s ingest.Segment) ([]engine.Token, error) {
	tk := d.eng.TokenizerFingerprint()
	if toks, ok, err := d.store.Tokens(tk, s.Hash); err == nil && ok {
		return toks, nil
	} else if err != nil {
		d.log.Warn("token cache read failed", "err", err)
	}
	toks := d.eng.Tokenize(s.Text)
	if err := d.store.PutTokens(tk, s.Hash, toks); err != nil {
		d.log.Warn("token cache write failed", "err", err)
	}
	return toks, nil
}

// snapshotSettings are the context settings a saved KV state depends on.
func (d *Daemon) snapshotSettings() cache.Settings {
	cfg := d.eng.Settings()
	return cache.Settings{ContextSize: d.eng.Info().ContextSize, FlashAttention: cfg.FlashAttention, KVType: "f16"}
}

// initialSync builds the pack, restores the longest valid prefix from the
// snapshot and prefills the rest.
func (d *Daemon) initialSync(ctx context.Context) error {
	ps, err := d.buildPack(ctx)
	if err != nil {
		return err
	}
	d.restore(ps)
	d.prefixMu.Lock()
	defer d.prefixMu.Unlock()
	_, err = d.syncLocked(ctx, ps, nil)
	return err
}

// restore loads the snapshot and keeps the segments whose chain still matches.
// A snapshot that is corrupt, or made for another model or context settings,
// is discarded with a log line and never trusted.
func (d *Daemon) restore(ps *packState) {
	h, state, err := d.store.LoadSnapshot(snapshotName)
	var corrupt *cache.CorruptError
	switch {
	case errors.Is(err, cache.ErrNoSnapshot):
		d.log.Info("no snapshot: prefilling the whole pack")
		return
	case errors.As(err, &corrupt):
		d.log.Warn("snapshot discarded", "reason", corrupt.Reason)
		return
	case err != nil:
		d.log.Warn("snapshot unreadable, ignoring it", "err", err)
		return
	}
	discard := func(why string) {
		d.log.Warn("snapshot discarded", "reason", why)
		if err := d.store.DeleteSnapshot(snapshotName); err != nil {
			d.log.Warn("deleting snapshot failed", "err", err)
		}
	}
	if h.ModelFingerprint != d.eng.Info().Fingerprint {
		discard("made with another model")
		return
	}
	if h.Settings != d.snapshotSettings() {
		discard(fmt.Sprintf("made with other context settings (%+v, now %+v)", h.Settings, d.snapshotSettings()))
		return
	}
	chains := make([]string, len(ps.marks))
	for i, m := range ps.marks {
		chains[i] = m.Chain
	}
	segs, toks := cache.ValidPrefix(h, chains)
	if toks == 0 {
		d.log.Info("snapshot shares no segment with the current pack")
		return
	}
	if err := d.eng.LoadState(state, h.Tokens); err != nil {
		discard(err.Error())
		return
	}
	if err := d.eng.Truncate(toks); err != nil {
		d.log.Warn("truncating the restored prefix failed", "err", err)
		d.eng.Truncate(0)
		return
	}
	d.mu.Lock()
	d.restored = toks
	d.snapBytes = int64(len(state))
	if toks == len(h.Tokens) {
		d.savedAt = slices.Clone(h.Tokens)
	}
	d.mu.Unlock()
	d.log.Info("snapshot restored", "tokens", toks, "segments", segs, "of", len(h.Segments))
}

// refresh rescans the repository and brings sequence 0 up to date, so that an
// answer sees the working tree as it is now. Callers hold prefixMu.
func (d *Daemon) refreshLocked(ctx context.Context, progress engine.Progress) (int, error) {
	ps, err := d.buildPack(ctx)
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
	report := func(done, total int) {
		d.mu.Lock()
		d.progress = &api.Progress{Done: done, Total: total}
		d.mu.Unlock()
		if progress != nil {
			progress(done, total)
		}
	}
	if d.eng.PrefixLen() != len(ps.tokens) || !slices.Equal(d.eng.Prefix(), ps.tokens) {
		d.setStateUnlessFailed(api.StatePrefilling)
	}
	st, err := d.eng.Sync(ctx, ps.tokens, report)
	d.mu.Lock()
	d.prefilled += st.Prefilled
	d.progress = nil
	d.mu.Unlock()
	if err != nil {
		return st.Prefilled, err
	}
	if st.Prefilled > 0 {
		d.log.Info("prefix synced", "reused", st.Reused, "prefilled", st.Prefilled, "seconds", st.Elapsed.Seconds())
		d.saveAsync(ctx)
	}
	d.setStateUnlessFailed(api.StateReady)
	return st.Prefilled, nil
}

func (d *Daemon) setStateUnlessFailed(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state == api.StatePrefilling || d.state == api.StateReady || (s == api.StatePrefilling && d.state == api.StateLoading) {
		d.state = s
	}
}

// saveAsync snapshots the prefix in the background, so that the question
// that caused a prefill does not also wait for the disk. It holds prefixMu
// shared: questions go on, the next sync waits for the state copy.
func (d *Daemon) saveAsync(ctx context.Context) {
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		d.prefixMu.RLock()
		defer d.prefixMu.RUnlock()
		if err := d.saveSnapshot(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("snapshot failed", "err", err)
		}
	}()
}

// saveSnapshot writes sequence 0's state when it differs from the last
// snapshot. Callers hold prefixMu so the prefix cannot move meanwhile.
func (d *Daemon) saveSnapshot(ctx context.Context) error {
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	if d.eng == nil || d.store == nil {
		return nil
	}
	d.mu.Lock()
	ps, saved := d.pack, d.savedAt
	d.mu.Unlock()
	if ps == nil {
		return nil
	}
	state, toks, err := d.eng.SaveState()
	if err != nil {
		return err
	}
	if len(toks) == 0 || slices.Equal(toks, saved) {
		return nil
	}
	// Only whole segments are worth recording; a partial tail is cut on restore.
	var marks []cache.SegmentMark
	for _, m := range ps.marks {
		if m.End > len(toks) || !slices.Equal(toks[:m.End], ps.tokens[:m.End]) {
			break
		}
		marks = append(marks, m)
	}
	h := cache.SnapshotHeader{
		Format:           1,
		ModelFingerprint: d.eng.Info().Fingerprint,
		Settings:         d.snapshotSettings(),
		Tokens:           toks,
		Segments:         marks,
		StateSize:        int64(len(state)),
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.store.SaveSnapshot(snapshotName, h, state); err != nil {
		return err
	}
	d.mu.Lock()
	d.savedAt = toks
	d.snapBytes = int64(len(state))
	d.mu.Unlock()
	d.log.Info("snapshot saved", "tokens", len(toks), "bytes", len(state))
	return nil
}
