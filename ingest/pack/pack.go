// Package pack lays a scan out as the prompt prefix (Build: ordered segments
// with a hash chain, within an optional token budget), and keeps it up to
// date as files change (Packer), on the tiered order of package layout.
package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"sort"
	"strings"

	"lore/ingest"
	"lore/ingest/layout"
	"lore/ingest/rank"
	"lore/ingest/scan"
	"lore/ingest/syntax"
)

// Options tune Build.
type Options struct {
	// RepoName is the name shown in the preamble; default the base name of
	// the scan root.
	RepoName string
	// Order sorts the file segments, coldest first (history.Heat.Order); nil sorts
	// by path.
	Order layout.Order
	// Budget caps the pack's tokens; 0 means no cap. Files are kept in full
	// in rank order while they fit, then as skeletons, then only in the map.
	Budget int
	// Count counts tokens for the budget; nil means ingest.EstimateTokens.
	Count func(string) int
	// Compress turns every file with definitions into its skeleton.
	Compress bool
	// Rank orders files by importance for the budget; nil computes it.
	Rank []rank.Ranked
}

// PrefixOptions are the options the daemon lays its prefix out with, for
// the repository at root: files in order (coldest first), within budget
// (engine.PackBudget of the context), counted with count. lore bench
// localize builds its packs with them too, so that what it measures is
// what the daemon holds.
func PrefixOptions(root string, order layout.Order, budget int, count func(string) int) Options {
	return Options{RepoName: filepath.Base(root), Order: order, Budget: budget, Count: count}
}

// Build lays out a scan as segments: the preamble, one segment per file in
// path order, then the map of definitions. The same scan always gives the
// same texts, hashes and chains.
//
// The map goes after the files although DESIGN.md puts it first: the map
// changes whenever any signature in the repository changes, and everything
// after a changed segment must be prefilled again. Early in the prefix, every
// signature edit would re-prefill the whole repository; at the end it costs
// only the map's own tokens.
func Build(res *scan.Result, opts Options) *ingest.Pack {
	name := opts.RepoName
	if name == "" {
		name = filepath.Base(res.Root)
	}
	byPath := make(map[string]*ingest.File, len(res.Files))
	paths := make([]string, len(res.Files))
	for i := range res.Files {
		byPath[res.Files[i].Path] = &res.Files[i]
		paths[i] = res.Files[i].Path
	}
	if opts.Order != nil {
		paths = opts.Order(paths)
	} else {
		sort.Strings(paths)
	}
	files := make([]*ingest.File, len(paths))
	for i, p := range paths {
		files[i] = byPath[p]
	}

	p := &ingest.Pack{Root: res.Root, Skipped: append([]ingest.Skipped(nil), res.Skipped...)}
	preamble := ingest.NewSegment(ingest.KindPreamble, "", "", preambleText(name))
	kinds := make(map[string]ingest.SegmentKind, len(files))
	for _, f := range files {
		kinds[f.Path] = ingest.KindFile
		if opts.Compress && len(f.Symbols) > 0 {
			kinds[f.Path] = ingest.KindSkeleton
		}
	}
	var mapSeg ingest.Segment
	if opts.Budget > 0 {
		mapSeg = budget(p, files, kinds, preamble, opts)
	} else {
		mapSeg = ingest.NewSegment(ingest.KindMap, "", "", mapText(files))
	}

	p.Segments = append(p.Segments, preamble)
	for _, f := range files {
		switch kinds[f.Path] {
		case ingest.KindFile:
			p.Segments = append(p.Segments, ingest.NewSegment(ingest.KindFile, f.Path, f.Lang, ingest.FileText(f)))
		case ingest.KindSkeleton:
			p.Segments = append(p.Segments, ingest.NewSegment(ingest.KindSkeleton, f.Path, f.Lang, skeletonText(f)))
		}
	}
	if mapSeg.Text != "" {
		p.Segments = append(p.Segments, mapSeg)
	}
	rechain(p)
	return p
}

// budget decides, in rank order, which files stay in full, which become
// skeletons and which remain only in the map, and returns the map segment.
// A tenth of the budget (at most 8,192 tokens) goes to the map first: it
// tells the model what exists even where the text did not fit.
func budget(p *ingest.Pack, files []*ingest.File, kinds map[string]ingest.SegmentKind, preamble ingest.Segment, opts Options) ingest.Segment {
	count := opts.Count
	if count == nil {
		count = ingest.EstimateTokens
	}
	ranked := opts.Rank
	if ranked == nil {
		all := make([]ingest.File, len(files))
		for i, f := range files {
			all[i] = *f
		}
		ranked = rank.Rank(all, rank.Options{})
	}
	left := opts.Budget - count(preamble.Text)
	mapText := rank.RepoMap(ranked, min(opts.Budget/10, 8192, max(left, 0)), count)
	var mapSeg ingest.Segment
	if mapText != "" {
		mapSeg = ingest.NewSegment(ingest.KindMap, "", "", "<map>\n"+mapText+"</map>\n")
		left -= count(mapSeg.Text)
	}
	byPath := make(map[string]*ingest.File, len(files))
	for _, f := range files {
		byPath[f.Path] = f
	}
	var order []*ingest.File
	for _, r := range ranked {
		if f := byPath[r.Path]; f != nil {
			order = append(order, f)
		}
	}
	// Full text for every file that fits, in rank order, then signatures
	// for as many of the rest as fit: whole files first, because a question
	// needs the code itself (lore bench localize: the old split, whole files
	// up to 60% of the budget and skeletons after, held fewer of the files
	// commits changed at both 32k and 128k contexts, and only 13k of a 25k
	// prefix whole at 32k).
	// (A file passed over here cannot grow back from its skeleton later: the
	// room only shrinks.)
	full := map[string]int{}
	skel := map[string]int{}
	for _, f := range order {
		if kinds[f.Path] == ingest.KindFile {
			full[f.Path] = count(ingest.FileText(f))
		}
		if len(f.Symbols) > 0 {
			skel[f.Path] = count(skeletonText(f))
		}
	}
	chosen := map[string]ingest.SegmentKind{}
	for _, f := range order {
		if n, ok := full[f.Path]; ok && n <= left {
			chosen[f.Path] = ingest.KindFile
			left -= n
		}
	}
	for _, f := range order {
		if n, ok := skel[f.Path]; ok && chosen[f.Path] == "" && n <= left {
			chosen[f.Path] = ingest.KindSkeleton
			left -= n
		}
	}
	for _, f := range order {
		k := chosen[f.Path]
		if k == "" {
			k = ingest.KindMap
		}
		if k != kinds[f.Path] {
			p.Reduced = append(p.Reduced, ingest.Reduced{Path: f.Path, To: k})
		}
		kinds[f.Path] = k
	}
	sort.Slice(p.Reduced, func(i, j int) bool { return p.Reduced[i].Path < p.Reduced[j].Path })
	return mapSeg
}

// preambleText must not hold anything that changes between runs (no dates,
// no counts): any change to it invalidates the whole KV cache.
func preambleText(name string) string {
	return "The source code of the repository " + name + " follows, one section per file.\n" +
		"Each section starts with a line <file path=\"PATH\" lang=\"LANGUAGE\">, then holds the file's content, " +
		"and ends with a line </file>.\n" +
		"Inside a section, a line of the file that would begin with <file, </file or another tag of this layout " +
		"is shown with a backslash before its <: it is the file's own text and never begins or ends a section.\n" +
		"A file too large for the context is shown as a <skeleton path=\"PATH\"> section that holds only the signatures " +
		"of its definitions, with their line numbers.\n" +
		"After the files comes a <map> section that lists the files with the signatures of the definitions they hold " +
		"(functions, methods, types, constants and variables), so that you know what exists and where.\n" +
		"When the same path appears again later, the later section is the file's current content and supersedes " +
		"the earlier one; a <deleted path=\"PATH\"/> line means the file no longer exists.\n" +
		"Answer questions about this repository from these files.\n\n"
}

// skeletonText is a file's segment when only its signatures fit. The
// signatures come from the file, so they are fenced as its content is.
func skeletonText(f *ingest.File) string {
	return "<skeleton path=\"" + ingest.EscapeAttr(f.Path) + "\" lang=\"" + ingest.EscapeAttr(f.Lang) + "\">\n" +
		ingest.Fence(syntax.Skeleton(f)) + "</skeleton>\n"
}

// mapText lists every file and, indented under it, the signatures of its
// definitions. Paths are escaped as in section headers (a path holds no
// line break then), and the list is fenced: neither a path nor a
// signature can end the map or open a section.
func mapText(files []*ingest.File) string {
	var b strings.Builder
	for _, f := range files {
		b.WriteString(ingest.EscapeAttr(f.Path))
		b.WriteByte('\n')
		for _, s := range f.Symbols {
			b.WriteString("  ")
			b.WriteString(s.Signature)
			b.WriteByte('\n')
		}
	}
	return "<map>\n" + ingest.Fence(b.String()) + "</map>\n"
}

// rechain recomputes every segment's Chain (and a missing Hash) in order.
func rechain(p *ingest.Pack) {
	var prev []byte // the empty string before the first segment
	buf := make([]byte, 0, 2*sha256.Size)
	for i := range p.Segments {
		s := &p.Segments[i]
		h, err := hex.DecodeString(s.Hash)
		if err != nil || len(h) != sha256.Size {
			sum := sha256.Sum256([]byte(s.Text))
			h = sum[:]
			s.Hash = hex.EncodeToString(h)
		}
		buf = append(append(buf[:0], prev...), h...)
		sum := sha256.Sum256(buf)
		s.Chain = hex.EncodeToString(sum[:])
		prev = sum[:]
	}
}
