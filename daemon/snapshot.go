package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"lore/cache"
	"lore/ingest"
)

// snapshotName is the snapshot slot of the working tree's prefix.
const snapshotName = "main"

// layoutKey holds the packer state that goes with the snapshot.
const layoutKey = "layout/" + snapshotName

// errNoLayout means no packer state was saved.
var errNoLayout = errors.New("no saved layout")

// resumePacker restores the packer saved with the snapshot, brought up to
// date with res.
func (d *Daemon) resumePacker(res *ingest.ScanResult, opts ingest.PackOptions) (*ingest.Packer, error) {
	b, ok, err := d.store.Get(layoutKey)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoLayout
	}
	var st ingest.PackerState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("saved layout unreadable: %w", err)
	}
	return ingest.ResumePacker(st, res, opts)
}

// saveLayout stores the packer state that goes with a snapshot. Callers
// hold prefixMu.
func (d *Daemon) saveLayout() error {
	if d.packer == nil {
		return nil
	}
	b, err := json.Marshal(d.packer.State())
	if err != nil {
		return err
	}
	return d.store.Put(layoutKey, b)
}

// snapshotSettings are the context settings a saved KV state depends on.
func (d *Daemon) snapshotSettings() cache.Settings {
	cfg := d.eng.Settings()
	return cache.Settings{ContextSize: d.eng.Info().ContextSize, FlashAttention: cfg.FlashAttention, KVType: cfg.KVType}
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
	if b := d.opts.SnapshotBudget; b > 0 && int64(len(state)) > b {
		d.log.Warn("snapshot not written: larger than snapshot_budget", "bytes", len(state), "budget", b)
		return nil
	}
	if err := d.store.SaveSnapshot(snapshotName, h, state); err != nil {
		return err
	}
	if err := d.saveLayout(); err != nil {
		d.log.Warn("saving the layout failed; the next start lays the pack out afresh", "err", err)
	}
	d.mu.Lock()
	d.savedAt = toks
	d.snapBytes = int64(len(state))
	d.mu.Unlock()
	d.log.Info("snapshot saved", "tokens", len(toks), "bytes", len(state))
	return nil
}
