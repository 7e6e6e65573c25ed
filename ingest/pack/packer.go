package pack

import (
	"path/filepath"
	"slices"

	"lore/ingest"
	"lore/ingest/layout"
	"lore/ingest/scan"
)

// Packer keeps a repository's pack up to date as files change, on the tiered
// layout (package layout): edits and unsaved editor buffers go to the overlay
// at the end, so the prefix before it stays valid, and Compact rebuilds the
// tiers in the background when the policy says so.
//
// The pack is [preamble][cold base][warm tier][map][overlay]. The map is
// made with the base (and again at a full rebuild), so an edit does not
// touch it; the files' own current text is always in the pack.
type Packer struct {
	opts     Options
	name     string
	root     string
	skipped  []ingest.Skipped
	reduced  []ingest.Reduced
	layout   *layout.Layout
	files    map[string]*ingest.File   // current version of every file
	segs     map[string]ingest.Segment // by hash: every segment the layout holds
	preamble ingest.Segment
	mapSeg   ingest.Segment
	version  int
}

// NewPacker lays out a scan as one cold base (in opts.Order, within
// opts.Budget) under the given policy.
func NewPacker(res *scan.Result, opts Options, policy layout.Policy) *Packer {
	p := &Packer{opts: opts, root: res.Root, files: map[string]*ingest.File{}}
	p.name = opts.RepoName
	if p.name == "" {
		p.name = filepath.Base(res.Root)
	}
	for i := range res.Files {
		f := res.Files[i]
		p.files[f.Path] = &f
	}
	p.skipped = append([]ingest.Skipped(nil), res.Skipped...)
	p.layout = &layout.Layout{Policy: policy}
	p.rebuildAll()
	return p
}

// rebuildAll lays out every current file as a fresh cold base.
func (p *Packer) rebuildAll() {
	res := &scan.Result{Root: p.root, Skipped: p.skipped}
	for _, f := range p.files {
		res.Files = append(res.Files, *f)
	}
	o := p.opts
	o.Budget = p.baseBudget()
	base := Build(res, o)
	p.reduced = base.Reduced
	p.segs = map[string]ingest.Segment{}
	var entries []layout.Entry
	order := make([]string, 0, len(base.Segments))
	for _, s := range base.Segments {
		switch s.Kind {
		case ingest.KindPreamble:
			p.preamble = s
		case ingest.KindMap:
			p.mapSeg = s
		default:
			p.segs[s.Hash] = s
			entries = append(entries, layout.Entry{Path: s.Path, Hash: s.Hash, Tokens: p.count(s.Text)})
			order = append(order, s.Path)
		}
	}
	// Build already ordered the segments: keep that order.
	p.layout = layout.New(entries, func([]string) []string { return order }, p.layout.Policy)
	p.version++
}

func (p *Packer) count(s string) int {
	if p.opts.Count != nil {
		return p.opts.Count(s)
	}
	return ingest.EstimateTokens(s)
}

// Update records new contents of files (saved or unsaved) and deletions. A
// changed file's new version goes to the overlay; the returned count is the
// tokens appended, what the next question must prefill. Contents that did not
// come from scan.Scan (unsaved editor buffers) must pass scan.SkipReason first: that is
// where secrets and binary files are kept out.
func (p *Packer) Update(changed []ingest.File, deleted []string) int {
	var changes []layout.Entry
	for i := range changed {
		f := changed[i]
		if old, ok := p.files[f.Path]; ok && old.Hash == f.Hash {
			continue
		}
		p.files[f.Path] = &f
		s := ingest.NewSegment(ingest.KindOverlay, f.Path, f.Lang, ingest.FileText(&f))
		p.segs[s.Hash] = s
		changes = append(changes, layout.Entry{Path: f.Path, Hash: s.Hash, Tokens: p.count(s.Text)})
	}
	for _, path := range deleted {
		if _, ok := p.files[path]; !ok {
			continue
		}
		delete(p.files, path)
		s := ingest.NewSegment(ingest.KindOverlay, path, "", deletedText(path))
		p.segs[s.Hash] = s
		changes = append(changes, layout.Entry{Path: path, Hash: s.Hash, Tokens: p.count(s.Text), Deleted: true})
	}
	n := p.layout.Update(changes)
	if n > 0 {
		p.version++
	}
	return n
}

// Sync compares a fresh scan with the packer's files and records the
// differences, returning the tokens appended.
func (p *Packer) Sync(res *scan.Result) int {
	seen := make(map[string]bool, len(res.Files))
	var changed []ingest.File
	for _, f := range res.Files {
		seen[f.Path] = true
		if old, ok := p.files[f.Path]; !ok || old.Hash != f.Hash {
			changed = append(changed, f)
		}
	}
	var deleted []string
	for path := range p.files {
		if !seen[path] {
			deleted = append(deleted, path)
		}
	}
	p.skipped = append(p.skipped[:0], res.Skipped...)
	return p.Update(changed, deleted)
}

// Differs reports whether a fresh scan holds files (or contents) other
// than the packer's: whether Sync would change the pack. It changes nothing.
func (p *Packer) Differs(res *scan.Result) bool {
	if len(res.Files) != len(p.files) {
		return true
	}
	for _, f := range res.Files {
		if old, ok := p.files[f.Path]; !ok || old.Hash != f.Hash {
			return true
		}
	}
	return false
}

// Compact runs the background rebuild the policy calls for, ordering the
// rebuilt files with order (nil: the packer's order). A pack over its
// budget is rebuilt whole, so files are reduced again to fit.
func (p *Packer) Compact(order layout.Order) layout.Rebuild {
	if order == nil {
		order = p.opts.Order
	}
	if order == nil {
		order = func(paths []string) []string {
			out := slices.Clone(paths)
			slices.Sort(out)
			return out
		}
	}
	var rb layout.Rebuild
	switch over := p.overBudget(); {
	case over && p.tokens()-p.layout.Stats().Stale <= p.opts.Budget && p.dropStaleCheaply(order, &rb):
	case over:
		p.Rebuild(order)
		return layout.Rebuild{Kind: "full"}
	default:
		rb = p.layout.Compact(order)
	}
	if rb.Kind != "" {
		p.version++
		p.gc()
	}
	return rb
}

// dropStaleCheaply drops the stale text when that is what does not fit and
// leaves most of the prefix in place: it then spares ranking and laying out
// every file again (about 25 ms on this repository). Stale text early in the
// cold base (after a branch switch) would have the rest laid out again in
// heat order, which re-prefills far more than a full rebuild that keeps
// most of the old order: there it reports false.
func (p *Packer) dropStaleCheaply(order layout.Order, rb *layout.Rebuild) bool {
	next := layout.Resume(p.layout.Entries(), p.layout.Policy)
	r := next.DropStale(order)
	if r.Kind == "" || 4*r.Cost > p.layout.Stats().Total {
		return false
	}
	p.layout, *rb = next, r
	return true
}

// ReducedFiles returns the current files the pack does not hold in full
// (reduced to signatures or to the map, and not edited since): the
// candidates for question-time retrieval.
func (p *Packer) ReducedFiles() []*ingest.File {
	var out []*ingest.File
	for _, r := range p.reduced {
		f := p.files[r.Path]
		if f == nil {
			continue
		}
		if e, ok := p.layout.Live(r.Path); ok && e.Tier != layout.TierCold {
			continue // edited since: its full text is in the pack
		}
		out = append(out, f)
	}
	return out
}

// Rebuild lays every current file out again as a fresh cold base in order
// (nil: the packer's order), dropping the warm tier, the overlay and all
// stale text; the whole pack must then be prefilled again from the first
// segment whose place changed.
func (p *Packer) Rebuild(order layout.Order) {
	if order != nil {
		p.opts.Order = order
	}
	p.rebuildAll()
}

// MustCompact reports that the pack cannot be answered on as it is: stale
// text passed the hard limit, or the pack outgrew its budget (an edit's
// full text in the overlay can do that). Compact first.
func (p *Packer) MustCompact() bool { return p.layout.MustCompact() || p.overBudget() }

// Stats sums the layout's tokens.
func (p *Packer) Stats() layout.Stats { return p.layout.Stats() }

// Version changes whenever the pack does.
func (p *Packer) Version() int { return p.version }

// baseBudget is the budget a full rebuild fills: the rest is headroom for
// the overlay and the stale text edits leave until the policy compacts,
// so that ordinary edits never push the pack past its budget.
func (p *Packer) baseBudget() int {
	if p.opts.Budget <= 0 {
		return 0
	}
	pol := p.layout.Policy
	return int(float64(p.opts.Budget) * max(0.5, 1-pol.OverlayMax-pol.StaleHard))
}

// overBudget reports whether the pack outgrew its budget: Compact then
// rebuilds it whole, to fit.
func (p *Packer) overBudget() bool { return p.opts.Budget > 0 && p.tokens() > p.opts.Budget }

func (p *Packer) tokens() int {
	return p.count(p.preamble.Text) + p.count(p.mapSeg.Text) + p.layout.Stats().Total
}

// gc forgets segments the layout no longer holds.
func (p *Packer) gc() {
	keep := make(map[string]bool, len(p.segs))
	for e := range p.layout.All() {
		keep[e.Hash] = true
	}
	for h := range p.segs {
		if !keep[h] {
			delete(p.segs, h)
		}
	}
}

// Pack returns the current pack: preamble, cold and warm tiers, the map, then
// the overlay, with chain hashes.
func (p *Packer) Pack() *ingest.Pack {
	out := &ingest.Pack{Root: p.root, Skipped: append([]ingest.Skipped(nil), p.skipped...), Reduced: append([]ingest.Reduced(nil), p.reduced...)}
	out.Segments = append(out.Segments, p.preamble)
	mapped := false
	for e := range p.layout.All() {
		if e.Tier == layout.TierOverlay && !mapped {
			out.Segments = appendIf(out.Segments, p.mapSeg)
			mapped = true
		}
		s := p.segs[e.Hash]
		switch {
		case e.Tier == layout.TierOverlay:
			s.Kind = ingest.KindOverlay
		case s.Kind == ingest.KindOverlay:
			s.Kind = ingest.KindFile // folded into a tier by a rebuild
		}
		out.Segments = append(out.Segments, s)
	}
	if !mapped {
		out.Segments = appendIf(out.Segments, p.mapSeg)
	}
	rechain(out)
	return out
}

func appendIf(segs []ingest.Segment, s ingest.Segment) []ingest.Segment {
	if s.Text == "" {
		return segs
	}
	return append(segs, s)
}

// deletedText marks a file deleted since an earlier section showed it.
func deletedText(path string) string {
	return "<deleted path=\"" + ingest.EscapeAttr(path) + "\"/>\n"
}
