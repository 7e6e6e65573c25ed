// Package layout decides the order of a pack's file segments: a cold base,
// a warm tier and an overlay, so that an edit costs about its own tokens,
// and the Policy that says when the tiers are rebuilt. Of lore it imports
// only config, whose settings hold the policy's tunable defaults.
package layout

import (
	"iter"
	"slices"

	"lore/config"
)

// The layout decides the order of the file segments in the prefix and is
// where an edit's cost is won or lost. An exact-prefix order (any order, kept
// exact) re-prefills everything after the first changed file; replaying real
// histories, that is a median of 35-99% of the pack per commit while the
// changed files are 1-3% of it. So the layout is tiered, like an LSM tree:
//
//	[cold base][warm tier][overlay]
//
// An edit never rewrites what is already in the prefix: the new version of a
// file is appended to the overlay and the old one stays where it is, marked
// stale (the preamble tells the model that later copies supersede earlier
// ones; a deleted file gets a deletion marker). The foreground cost of an
// edit is therefore the changed file's own tokens. Stale text is then
// cleaned up in the background by rebuilds that start as late in the prefix
// as they can: the overlay is merged into the warm tier often (cheap: both are
// small and hot), and the cold base is rebuilt rarely, only from a point past
// which enough stale text lies, keeping older stale entries in place.

// Tier is the layer an entry belongs to.
type Tier int

const (
	TierCold Tier = iota
	TierWarm
	TierOverlay
)

func (t Tier) String() string {
	switch t {
	case TierCold:
		return "cold"
	case TierWarm:
		return "warm"
	default:
		return "overlay"
	}
}

// Entry is one file segment of the layout: a version of a file, or the
// marker of its deletion.
type Entry struct {
	Path    string
	Hash    string // content hash of this version (or of the deletion marker)
	Tokens  int
	Deleted bool // a deletion marker
	Tier    Tier
	Stale   bool // superseded by a later entry of the same path
}

func (e Entry) same(o Entry) bool {
	return e.Path == o.Path && e.Hash == o.Hash && e.Deleted == o.Deleted && e.Stale == o.Stale
}

// Policy sets when the background rebuilds run, as fractions of the
// layout's tokens.
type Policy struct {
	OverlayMax float64 // merge the overlay into the warm tier when it holds more
	WarmMax    float64 // fold the warm tier into the cold base when it holds more
	StaleMax   float64 // rebuild part of the cold base when stale text exceeds this
	StaleKeep  float64 // stale text a cold rebuild may leave in front of its start
	StaleHard  float64 // never answer with more stale text: compact in the foreground
}

// DefaultPolicy keeps stale text under 10% of the pack even right after
// a large commit, and was tuned with `lore bench freshness` (see BENCHMARKS.md).
// Its three tunable fields are config's defaults of overlay_max, warm_max and
// stale_max, so the settings and the policy cannot disagree.
var DefaultPolicy = Policy{
	OverlayMax: config.DefaultOverlayMax,
	WarmMax:    config.DefaultWarmMax,
	StaleMax:   config.DefaultStaleMax,
	StaleKeep:  0.08,
	StaleHard:  0.10,
}

// SettingsPolicy is DefaultPolicy with the tunable fields the settings
// give: the policy the daemon runs with (and lore bench localize measures).
func SettingsPolicy(s *config.Settings) Policy {
	p := DefaultPolicy
	p.OverlayMax, p.WarmMax, p.StaleMax = s.OverlayMax, s.WarmMax, s.StaleMax
	return p
}

// Layout is the tiered order of a pack's file segments.
type Layout struct {
	Policy  Policy
	entries []Entry
}

// Order sorts paths coldest first (history.Heat.Order is the usual one).
type Order func(paths []string) []string

// New lays out files as one cold base in the given order.
func New(files []Entry, order Order, policy Policy) *Layout {
	byPath := make(map[string]Entry, len(files))
	paths := make([]string, 0, len(files))
	for _, f := range files {
		if f.Deleted {
			continue
		}
		if _, dup := byPath[f.Path]; !dup {
			paths = append(paths, f.Path)
		}
		byPath[f.Path] = f
	}
	l := &Layout{Policy: policy}
	for _, p := range order(paths) {
		e := byPath[p]
		e.Tier, e.Stale = TierCold, false
		l.entries = append(l.entries, e)
	}
	return l
}

// Resume is a layout holding entries as they are, in prefix order (a
// layout saved with Entries); it takes the slice over.
func Resume(entries []Entry, policy Policy) *Layout {
	return &Layout{Policy: policy, entries: entries}
}

// Entries returns the layout in prefix order.
func (l *Layout) Entries() []Entry { return slices.Clone(l.entries) }

// All yields the layout's entries in prefix order, without copying them.
func (l *Layout) All() iter.Seq[Entry] { return slices.Values(l.entries) }

// Live returns the entry holding the current version of path: its latest
// entry that is not stale.
func (l *Layout) Live(path string) (Entry, bool) {
	if i := l.liveIndex(path); i >= 0 {
		return l.entries[i], true
	}
	return Entry{}, false
}

// Stats sums the layout's tokens.
type Stats struct {
	Total, Stale, Cold, Warm, Overlay int
}

// StaleFraction is the share of stale tokens.
func (s Stats) StaleFraction() float64 { return frac(s.Stale, s.Total) }

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Stats sums the layout's tokens by tier and staleness.
func (l *Layout) Stats() Stats {
	var s Stats
	for _, e := range l.entries {
		s.Total += e.Tokens
		if e.Stale {
			s.Stale += e.Tokens
		}
		switch e.Tier {
		case TierCold:
			s.Cold += e.Tokens
		case TierWarm:
			s.Warm += e.Tokens
		default:
			s.Overlay += e.Tokens
		}
	}
	return s
}

func (l *Layout) liveIndex(path string) int {
	for i := len(l.entries) - 1; i >= 0; i-- {
		if e := l.entries[i]; e.Path == path && !e.Stale {
			return i
		}
	}
	return -1
}

// Update records new versions and deletions (Entry.Deleted) of files. Each
// changed file's previous entry goes stale and the new version (or a
// deletion marker) is appended to the overlay, so the prefix before it is
// untouched. It returns the tokens appended: the foreground prefill cost.
// Entries whose content did not change are ignored.
func (l *Layout) Update(changes []Entry) (appended int) {
	for _, c := range changes {
		i := l.liveIndex(c.Path)
		if i >= 0 && l.entries[i].Deleted == c.Deleted && (c.Deleted || l.entries[i].Hash == c.Hash) {
			continue
		}
		if i < 0 && c.Deleted {
			continue // deleting what the prefix never held
		}
		if i >= 0 {
			l.entries[i].Stale = true
		}
		c.Tier, c.Stale = TierOverlay, false
		l.entries = append(l.entries, c)
		appended += c.Tokens
	}
	return appended
}

// MustCompact reports whether stale text exceeds the hard limit, so that the
// next question must wait for a compaction (a commit that rewrote a large
// part of the repository).
func (l *Layout) MustCompact() bool {
	return l.Policy.StaleHard > 0 && l.Stats().StaleFraction() > l.Policy.StaleHard
}

// Rebuild describes one background rebuild.
type Rebuild struct {
	Kind  string // "", "warm" or "cold"
	From  int    // index of the first entry that changed
	Cost  int    // tokens that must be prefilled again: from From to the end
	Stale int    // stale tokens removed
}

// Compact runs the rebuild the policy calls for, if any, with files
// reordered by order, and returns what it did. Deletion markers whose
// file's earlier versions have all been dropped are dropped too.
func (l *Layout) Compact(order Order) Rebuild {
	s := l.Stats()
	p := l.Policy
	switch {
	case s.StaleFraction() > p.StaleMax || frac(s.Warm+s.Overlay, s.Total) > p.WarmMax:
		return l.rebuildFrom(l.coldStart(s), TierCold, "cold", order)
	case frac(s.Overlay, s.Total) > p.OverlayMax:
		return l.rebuildFrom(l.warmStart(), TierWarm, "warm", order)
	}
	return Rebuild{}
}

// DropStale lays out again everything from the first stale entry on,
// without the stale text, as a cold rebuild (a warm one when the first
// stale entry is past the cold base); it does nothing when nothing is
// stale.
func (l *Layout) DropStale(order Order) Rebuild {
	for i, e := range l.entries {
		if !e.Stale {
			continue
		}
		if e.Tier == TierCold {
			return l.rebuildFrom(i, TierCold, "cold", order)
		}
		return l.rebuildFrom(i, TierWarm, "warm", order)
	}
	return Rebuild{}
}

// coldStart is where a cold rebuild starts: among the stale cold entries
// that leave at most StaleKeep of the tokens stale in front of them, the one
// that removes the most stale tokens per token prefilled again; the warm
// tier's start when the cold base holds no stale entry.
func (l *Layout) coldStart(s Stats) int {
	keep := int(l.Policy.StaleKeep * float64(s.Total))
	// Starting past the first stale entry that does not fit in keep would
	// leave too much in front: it is the last possible start.
	limit, stale := len(l.entries), 0
	for i, e := range l.entries {
		if e.Tier != TierCold {
			break
		}
		if e.Stale {
			if stale+e.Tokens > keep {
				limit = i + 1
				break
			}
			stale += e.Tokens
		}
	}
	if i, _ := l.bestColdStart(limit); i >= 0 {
		return i
	}
	return l.warmStart()
}

// bestColdStart returns the stale cold entry before limit from which a
// rebuild removes the most stale tokens per token prefilled again, and that
// share; -1 when there is none.
func (l *Layout) bestColdStart(limit int) (int, float64) {
	// Walk backwards, summing what a rebuild from each entry would cost.
	n := len(l.entries)
	tokAfter, staleAfter := 0, 0
	best, bestRatio := -1, -1.0
	for i := n - 1; i >= 0; i-- {
		e := l.entries[i]
		tokAfter += e.Tokens
		if e.Stale {
			staleAfter += e.Tokens
		}
		if i < limit && e.Tier == TierCold && e.Stale {
			if r := float64(staleAfter) / float64(tokAfter); r >= bestRatio {
				best, bestRatio = i, r
			}
		}
	}
	return best, bestRatio
}

// warmStart is the first entry of the warm tier (or of the overlay).
func (l *Layout) warmStart() int {
	for i, e := range l.entries {
		if e.Tier != TierCold {
			return i
		}
	}
	return len(l.entries)
}

// rebuildFrom keeps entries[:from] and lays out the live files of the rest
// again, in order, as one tier.
func (l *Layout) rebuildFrom(from int, tier Tier, kind string, order Order) Rebuild {
	old := l.entries
	tail := old[from:]
	// Earlier (kept) entries of a path, live or stale, decide whether a
	// deletion marker is still needed.
	inHead := map[string]bool{}
	for _, e := range old[:from] {
		if !e.Deleted {
			inHead[e.Path] = true
		}
	}
	byPath := map[string]Entry{}
	var paths []string
	for _, e := range tail {
		if e.Stale {
			continue
		}
		if e.Deleted && !inHead[e.Path] {
			continue // nothing left before it to supersede
		}
		byPath[e.Path] = e
		paths = append(paths, e.Path)
	}
	next := slices.Clone(old[:from])
	for _, path := range order(paths) {
		e := byPath[path]
		e.Tier = tier
		next = append(next, e)
	}
	rb := Rebuild{Kind: kind, From: from}
	for _, e := range tail {
		if e.Stale {
			rb.Stale += e.Tokens
		}
	}
	first := from
	for first < len(old) && first < len(next) && old[first].same(next[first]) {
		first++
	}
	rb.From = first
	for _, e := range next[first:] {
		rb.Cost += e.Tokens
	}
	l.entries = next
	return rb
}
