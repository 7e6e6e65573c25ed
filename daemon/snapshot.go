package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"lore/api"
	"lore/cache"
	"lore/ingest/pack"
	"lore/ingest/scan"
)

// The prefix is snapshotted per branch: switching back to a branch restores
// its prefix instead of prefilling it again. Each snapshot has the packer
// layout it was made with under layoutKey(name), so that the pack can be
// laid out the same way again.

// branchSnapshotPrefix starts the names of the branches' snapshots.
const branchSnapshotPrefix = "branch-"

// branchSnapshot names the snapshot slot of a branch: readable, and unique
// thanks to a hash of the exact name (feature/x and feature_x differ).
func branchSnapshot(branch string) string {
	if branch == "" {
		branch = "worktree"
	}
	clean := []byte(branch)
	for i, c := range clean {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			clean[i] = '_'
		}
	}
	if len(clean) > 64 {
		clean = clean[:64]
	}
	h := fnv.New32a()
	h.Write([]byte(branch))
	return fmt.Sprintf("%s%s-%08x", branchSnapshotPrefix, clean, h.Sum32())
}

func layoutKey(snapshot string) string { return "layout/" + snapshot }

// errNoLayout means no packer state was saved.
var errNoLayout = errors.New("no saved layout")

// resumePacker restores the packer saved with a snapshot, brought up to
// date with res.
func (d *Daemon) resumePacker(snapshot string, res *scan.Result, opts pack.Options) (*pack.Packer, error) {
	b, ok, err := d.store.Get(layoutKey(snapshot))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoLayout
	}
	var st pack.PackerState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("saved layout unreadable: %w", err)
	}
	return pack.ResumePacker(st, res, opts)
}

// saveLayout stores the packer state that goes with the current branch's
// snapshot. Callers hold prefixMu.
func (d *Daemon) saveLayout() error {
	if d.packer == nil {
		return nil
	}
	b, err := json.Marshal(d.packer.State())
	if err != nil {
		return err
	}
	return d.store.Put(layoutKey(d.snapName), b)
}

// resumeBest lays the pack out as the saved snapshot that leaves the least
// to prefill: the current branch's, or another branch's (most recently used
// first) when the tree is closer to that. Without any usable snapshot it
// still resumes the current branch's layout, so the pack keeps its order.
// It returns the packer, its pack and the snapshot to restore ("" for
// none), or a nil packer when nothing was saved. Callers hold prefixMu
// exclusively.
func (d *Daemon) resumeBest(res *scan.Result, opts pack.Options) (*pack.Packer, *packState, string) {
	names := []string{d.snapName}
	if infos, err := d.store.Snapshots(); err == nil {
		sort.Slice(infos, func(i, j int) bool { return infos[i].LastUsed.After(infos[j].LastUsed) })
		for _, in := range infos {
			if strings.HasPrefix(in.Name, branchSnapshotPrefix) && in.Name != d.snapName && len(names) < maxResumeCandidates {
				names = append(names, in.Name)
			}
		}
	}
	var (
		best     *pack.Packer
		bestPS   *packState
		bestName string
		bestCost int
	)
	for _, name := range names {
		p, err := d.resumePacker(name, res, opts)
		if err != nil {
			if !errors.Is(err, errNoLayout) {
				d.log.Info("saved layout not usable: laying the pack out afresh", "snapshot", name, "reason", err)
			}
			continue
		}
		ps, err := d.packState(p.Pack())
		if err != nil {
			continue
		}
		toks := 0
		if h, err := d.store.LoadSnapshotHeader(name); err == nil && h.ModelFingerprint == d.eng.Info().Fingerprint && h.Settings == d.snapshotSettings() {
			_, toks = cache.ValidPrefix(h, ps.chains())
		}
		if toks == 0 && name != d.snapName {
			continue // another branch's layout is only worth it with its KV
		}
		if cost := len(ps.tokens) - toks; best == nil || cost < bestCost {
			best, bestPS, bestCost, bestName = p, ps, cost, name
			if toks == 0 {
				bestName = ""
			}
		}
	}
	return best, bestPS, bestName
}

// maxResumeCandidates bounds the snapshots judged at start or at a branch
// switch: each costs laying its pack out.
const maxResumeCandidates = 6

// snapshotSettings are the context settings a saved KV state depends on.
func (d *Daemon) snapshotSettings() cache.Settings {
	cfg := d.eng.Settings()
	return cache.Settings{ContextSize: d.eng.Info().ContextSize, FlashAttention: cfg.FlashAttention, KVType: cfg.KVType}
}

// restore loads a snapshot and keeps the segments whose chain still
// matches. A snapshot that is corrupt, or made for another model or context
// settings, is discarded with a log line and never trusted. When sequence
// 0 already holds that much of the pack (a branch switch that keeps the
// prefix), nothing is loaded.
func (d *Daemon) restore(name string, ps *packState) {
	h, err := d.store.LoadSnapshotHeader(name)
	if err == nil {
		if _, toks := cache.ValidPrefix(h, ps.chains()); toks > 0 && d.eng.Holds(ps.tokens[:toks]) {
			d.log.Info("the prefix already holds the snapshot's valid part", "snapshot", name, "tokens", toks)
			return
		}
	}
	h, state, err := d.store.LoadSnapshot(name)
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
		if err := d.store.DeleteSnapshot(name); err != nil {
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
	segs, toks := cache.ValidPrefix(h, ps.chains())
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
	d.restored += toks
	d.snapBytes = int64(len(state))
	if toks == len(h.Tokens) && name == d.snapName {
		d.savedAt = slices.Clone(h.Tokens)
	}
	d.mu.Unlock()
	d.log.Info("snapshot restored", "snapshot", name, "tokens", toks, "segments", segs, "of", len(h.Segments))
}

// saveAsync snapshots the prefix in the background, so that the question
// that caused a prefill does not also wait for the disk. It holds prefixMu
// shared: questions go on, the next sync waits for the state copy.
func (d *Daemon) saveAsync(ctx context.Context) {
	if !d.savePending.CompareAndSwap(false, true) {
		return // the pending save will write the newest prefix
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		// Copying the state holds the engine for tens of milliseconds per
		// 100 MB: not while a question runs (the one that prefilled is
		// usually about to decode). The final snapshot at shutdown
		// covers a daemon that never becomes idle.
		for d.active.Load() > 0 {
			select {
			case <-ctx.Done():
				d.savePending.Store(false)
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		d.savePending.Store(false)
		d.prefixMu.RLock()
		err := d.saveSnapshot(ctx)
		d.prefixMu.RUnlock()
		if err != nil && ctx.Err() == nil {
			d.log.Warn("snapshot failed", "err", err)
		}
		// The state copy (tens of MB) is garbage now. Collected here, while
		// the daemon is idle, it no longer stalls the refresh after the next
		// edit: that collection cost the watcher's edit-to-fresh about 30 ms.
		runtime.GC()
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
	if err := d.store.SaveSnapshot(d.snapName, h, state); err != nil {
		return err
	}
	d.evictSnapshots(d.snapName)
	if err := d.saveLayout(); err != nil {
		d.log.Warn("saving the layout failed; the next start lays the pack out afresh", "err", err)
	}
	d.mu.Lock()
	d.savedAt = toks
	d.snapBytes = int64(len(state))
	d.mu.Unlock()
	d.log.Info("snapshot saved", "snapshot", d.snapName, "tokens", len(toks), "bytes", len(state))
	return nil
}

// evictSnapshots deletes the least recently used snapshots (branches' and
// sessions') until those on disk fit SnapshotBudget. The snapshot just
// written and the current branch's stay.
func (d *Daemon) evictSnapshots(keep string) {
	budget := d.opts.SnapshotBudget
	if budget <= 0 {
		return
	}
	infos, err := d.store.Snapshots()
	if err != nil {
		d.log.Warn("listing snapshots for eviction failed", "err", err)
		return
	}
	var total int64
	for _, in := range infos {
		total += in.Size
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].LastUsed.Before(infos[j].LastUsed) })
	for _, in := range infos {
		if total <= budget {
			return
		}
		if in.Name == keep || in.Name == d.snapName {
			continue
		}
		if err := d.store.DeleteSnapshot(in.Name); err != nil {
			d.log.Warn("evicting a snapshot failed", "snapshot", in.Name, "err", err)
			continue
		}
		if strings.HasPrefix(in.Name, branchSnapshotPrefix) {
			d.store.Delete(layoutKey(in.Name))
		}
		total -= in.Size
		d.log.Info("snapshot evicted: over snapshot_budget", "snapshot", in.Name, "bytes", in.Size, "budget", budget)
	}
}

// snapshotList lists the snapshots on disk for status, most recently used
// first (nil before the store is open).
func (d *Daemon) snapshotList() []api.SnapshotInfo {
	d.mu.Lock()
	store := d.store
	d.mu.Unlock()
	out := []api.SnapshotInfo{}
	if store == nil {
		return out
	}
	infos, err := store.Snapshots()
	if err != nil {
		return out
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].LastUsed.After(infos[j].LastUsed) })
	for _, in := range infos {
		out = append(out, api.SnapshotInfo{Name: in.Name, Bytes: in.Size, Tokens: in.Tokens, LastUsed: in.LastUsed})
	}
	return out
}
