package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	"lore/api"
	"lore/cache"
	"lore/engine"
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

// legacySnapshot is the single snapshot of earlier versions.
const legacySnapshot = "main"

func layoutKey(snapshot string) string { return "layout/" + snapshot }

// errNoLayout means no packer state was saved.
var errNoLayout = errors.New("no saved layout")

// resumePacker restores the packer saved with a snapshot, brought up to
// date with res.
func (p *prefix) resumePacker(snapshot string, res *scan.Result, opts pack.Options) (*pack.Packer, error) {
	b, ok, err := p.store.Get(layoutKey(snapshot))
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

// saveLayoutLocked stores the packer state that goes with the current
// branch's snapshot; mu held shared is enough.
func (p *prefix) saveLayoutLocked() error {
	if p.packer == nil {
		return nil
	}
	b, err := json.Marshal(p.packer.State())
	if err != nil {
		return err
	}
	return p.store.Put(layoutKey(p.snapName), b)
}

// resumeBest lays the pack out as the saved snapshot that leaves the least
// to prefill: the current branch's, or another branch's (most recently used
// first) when the tree is closer to that. Without any usable snapshot it
// still resumes the current branch's layout, so the pack keeps its order.
// It returns the packer, its pack and the snapshot to restore ("" for
// none), or a nil packer when nothing was saved.
func (p *prefix) resumeBestLocked(res *scan.Result, opts pack.Options) (*pack.Packer, *packState, string) {
	names := []string{p.snapName}
	if infos, err := p.store.Snapshots(); err == nil {
		sort.Slice(infos, func(i, j int) bool { return infos[i].LastUsed.After(infos[j].LastUsed) })
		for _, in := range infos {
			if strings.HasPrefix(in.Name, branchSnapshotPrefix) && in.Name != p.snapName && len(names) < maxResumeCandidates {
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
		pk, err := p.resumePacker(name, res, opts)
		if err != nil {
			if !errors.Is(err, errNoLayout) {
				p.log.Info("saved layout not usable: laying the pack out afresh", "snapshot", name, "reason", err)
			}
			continue
		}
		ps, err := p.packStateLocked(pk.Pack())
		if err != nil {
			continue
		}
		toks := 0
		h, err := p.store.LoadSnapshotHeader(name)
		var corrupt *cache.CorruptError
		switch {
		case err == nil:
			if why := p.unusable(h); why != "" {
				p.unusableSnapshot(name, why, false)
			} else {
				_, toks = cache.ValidPrefix(h, ps.chains())
			}
		case errors.As(err, &corrupt):
			p.unusableSnapshot(name, corrupt.Reason, true)
		case !errors.Is(err, cache.ErrNoSnapshot):
			p.log.Warn("snapshot unreadable, ignoring it", "snapshot", name, "err", err)
		}
		if toks == 0 && name != p.snapName {
			continue // another branch's layout is only worth it with its KV
		}
		if cost := len(ps.tokens) - toks; best == nil || cost < bestCost {
			best, bestPS, bestCost, bestName = pk, ps, cost, name
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
func snapshotSettings(eng engine.Backend) cache.Settings {
	cfg := eng.Settings()
	return cache.Settings{ContextSize: eng.Info().ContextSize, FlashAttention: cfg.FlashAttention, KVType: cfg.KVType}
}

// unusable says why a snapshot made as h cannot be restored here ("" when
// it can).
func (p *prefix) unusable(h cache.SnapshotHeader) string {
	if h.ModelFingerprint != p.eng.Info().Fingerprint {
		return "made with another model"
	}
	if now := snapshotSettings(p.eng); h.Settings != now {
		return "made with other context settings: " + settingsChange(h.Settings, now)
	}
	return ""
}

// settingsChange names the context settings that differ.
func settingsChange(was, now cache.Settings) string {
	var d []string
	if was.ContextSize != now.ContextSize {
		d = append(d, fmt.Sprintf("context %d tokens, now %d", was.ContextSize, now.ContextSize))
	}
	if was.FlashAttention != now.FlashAttention {
		d = append(d, fmt.Sprintf("flash attention %v, now %v", was.FlashAttention, now.FlashAttention))
	}
	if was.KVType != now.KVType {
		d = append(d, fmt.Sprintf("KV cache type %q, now %q", was.KVType, now.KVType))
	}
	if was.Sequences != now.Sequences {
		d = append(d, fmt.Sprintf("%d sequences, now %d", was.Sequences, now.Sequences))
	}
	return strings.Join(d, "; ")
}

// unusableSnapshot deals with a snapshot that cannot be restored. The
// current branch's is discarded: logged, shown in status (the prefix is
// prefilled instead, and its next snapshot replaces it). Another branch's
// is kept for when the settings it was made with come back, unless it is
// corrupt (deleted is true: LoadSnapshot deletes those).
func (p *prefix) unusableSnapshot(name, why string, corrupt bool) {
	if name != p.snapName && !corrupt {
		p.log.Info("another branch's snapshot cannot be restored here", "snapshot", name, "reason", why)
		return
	}
	p.discarded(name, why)
	if err := p.store.DeleteSnapshot(name); err != nil {
		p.log.Warn("deleting snapshot failed", "snapshot", name, "err", err)
	}
}

// discarded logs a discarded snapshot and keeps the reason for status.
func (p *prefix) discarded(name, why string) {
	p.log.Warn("snapshot discarded: the prefix is prefilled instead", "snapshot", name, "reason", why)
	p.statMu.Lock()
	p.stats.discarded = &api.SnapshotDiscard{Name: name, Reason: why, At: time.Now()}
	p.statMu.Unlock()
}

// restore loads a snapshot and keeps the segments whose chain still
// matches. A snapshot that is corrupt, or made for another model or context
// settings, is discarded (see discarded) and never trusted. When sequence
// 0 already holds that much of the pack (a branch switch that keeps the
// prefix), nothing is loaded.
func (p *prefix) restoreLocked(name string, ps *packState) {
	h, err := p.store.LoadSnapshotHeader(name)
	if err == nil {
		if _, toks := cache.ValidPrefix(h, ps.chains()); toks > 0 && p.eng.Holds(ps.tokens[:toks]) {
			p.log.Info("the prefix already holds the snapshot's valid part", "snapshot", name, "tokens", toks)
			return
		}
	}
	h, state, err := p.store.LoadSnapshot(name)
	var corrupt *cache.CorruptError
	switch {
	case errors.Is(err, cache.ErrNoSnapshot):
		p.log.Info("no snapshot: prefilling the whole pack")
		return
	case errors.As(err, &corrupt):
		p.discarded(name, corrupt.Reason) // LoadSnapshot deleted it
		return
	case err != nil:
		p.log.Warn("snapshot unreadable, ignoring it", "snapshot", name, "err", err)
		return
	}
	if why := p.unusable(h); why != "" {
		p.unusableSnapshot(name, why, false)
		return
	}
	segs, toks := cache.ValidPrefix(h, ps.chains())
	if toks == 0 {
		p.log.Info("snapshot shares no segment with the current pack")
		return
	}
	if err := p.eng.LoadState(state, h.Tokens); err != nil {
		p.unusableSnapshot(name, "the engine refused its state: "+err.Error(), true)
		return
	}
	if err := p.eng.Truncate(toks); err != nil {
		p.log.Warn("truncating the restored prefix failed", "err", err)
		p.eng.Truncate(0)
		return
	}
	p.statMu.Lock()
	p.stats.restored += toks
	p.stats.snapBytes = int64(len(state))
	p.statMu.Unlock()
	if toks == len(h.Tokens) && name == p.snapName {
		p.saveMu.Lock()
		p.savedAt = slices.Clone(h.Tokens)
		p.saveMu.Unlock()
	}
	p.log.Info("snapshot restored", "snapshot", name, "tokens", toks, "segments", segs, "of", len(h.Segments))
}

// saveSnapshotLocked writes sequence 0's state when it differs from the last
// snapshot. mu held shared is enough: the prefix cannot move meanwhile.
func (p *prefix) saveSnapshotLocked(ctx context.Context) error {
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	ps := p.pack.Load()
	if ps == nil {
		return nil
	}
	state, toks, err := p.eng.SaveStateAs(p.snapName)
	if err != nil {
		return err
	}
	if len(toks) == 0 || slices.Equal(toks, p.savedAt) {
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
		ModelFingerprint: p.eng.Info().Fingerprint,
		Settings:         snapshotSettings(p.eng),
		Tokens:           toks,
		Segments:         marks,
		StateSize:        int64(len(state)),
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b := p.opts.SnapshotBudget; b > 0 && int64(len(state)) > b {
		p.log.Warn("snapshot not written: larger than snapshot_budget", "bytes", len(state), "budget", b)
		return nil
	}
	if err := p.store.SaveSnapshot(p.snapName, h, state); err != nil {
		return err
	}
	p.evictSnapshots(p.snapName)
	if err := p.saveLayoutLocked(); err != nil {
		p.log.Warn("saving the layout failed; the next start lays the pack out afresh", "err", err)
	}
	p.savedAt = toks
	p.statMu.Lock()
	p.stats.snapBytes = int64(len(state))
	p.statMu.Unlock()
	p.log.Info("snapshot saved", "snapshot", p.snapName, "tokens", len(toks), "bytes", len(state))
	return nil
}

// evictSnapshots deletes the least recently used snapshots (branches' and
// sessions') until those on disk fit SnapshotBudget. Those named in keep
// (the one just written, the current branch's) stay.
func (p *prefix) evictSnapshots(keep ...string) {
	budget := p.opts.SnapshotBudget
	if budget <= 0 {
		return
	}
	infos, err := p.store.Snapshots()
	if err != nil {
		p.log.Warn("listing snapshots for eviction failed", "err", err)
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
		if slices.Contains(keep, in.Name) {
			continue
		}
		if err := p.store.DeleteSnapshot(in.Name); err != nil {
			p.log.Warn("evicting a snapshot failed", "snapshot", in.Name, "err", err)
			continue
		}
		if strings.HasPrefix(in.Name, branchSnapshotPrefix) {
			p.store.Delete(layoutKey(in.Name))
		}
		total -= in.Size
		p.log.Info("snapshot evicted: over snapshot_budget", "snapshot", in.Name, "bytes", in.Size, "budget", budget)
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
