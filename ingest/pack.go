package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"sort"
	"strings"
)

// SegmentKind says what a segment of the pack holds.
type SegmentKind string

// Segment kinds. A skeleton holds the signatures of a file whose full text
// did not fit the budget (or all files with Compress); an overlay segment is
// the current version of a file edited since the base was built.
const (
	KindPreamble SegmentKind = "preamble"
	KindFile     SegmentKind = "file"
	KindSkeleton SegmentKind = "skeleton"
	KindMap      SegmentKind = "map"
	KindOverlay  SegmentKind = "overlay"
)

// Segment is one independently tokenized piece of the prompt prefix.
type Segment struct {
	Kind SegmentKind
	Path string // the file's path; empty for preamble and map
	Lang string
	Text string // exactly the text placed in the prompt, header included
	Hash string // hex sha256 of Text
	// Chain is hex sha256(previous segment's Chain bytes || Hash bytes), over
	// the raw 32-byte digests; the first segment chains from the empty
	// string. The first segment whose Chain differs from what a KV state
	// holds is where that state stops being valid.
	Chain string
}

// Pack is the ordered prompt prefix for one repository.
type Pack struct {
	Root     string
	Segments []Segment
	Skipped  []Skipped // files the scan skipped, with reasons
	Reduced  []Reduced // files not in full: skeleton or map entry only
}

// Reduced is a file the budget did not allow in full.
type Reduced struct {
	Path string      `json:"path"`
	To   SegmentKind `json:"to"` // KindSkeleton, or KindMap: only its map entry remains
}

// PackOptions tune BuildPack.
type PackOptions struct {
	// RepoName is the name shown in the preamble; default the base name of
	// the scan root.
	RepoName string
	// Order sorts the file segments, coldest first (Heat.Order); nil sorts
	// by path.
	Order Order
	// Budget caps the pack's tokens; 0 means no cap. Files are kept in full
	// in rank order while they fit, then as skeletons, then only in the map.
	Budget int
	// Count counts tokens for the budget; nil means EstimateTokens.
	Count func(string) int
	// Compress turns every file with definitions into its skeleton.
	Compress bool
	// Rank orders files by importance for the budget; nil computes it.
	Rank []Ranked
}

// BuildPack lays out a scan as segments: the preamble, one segment per file in
// path order, then the map of definitions. The same scan always gives the
// same texts, hashes and chains.
//
// The map goes after the files although DESIGN.md puts it first: the map
// changes whenever any signature in the repository changes, and everything
// after a changed segment must be prefilled again. Early in the prefix, every
// signature edit would re-prefill the whole repository; at the end it costs
// only the map's own tokens.
func BuildPack(res *ScanResult, opts PackOptions) *Pack {
	name := opts.RepoName
	if name == "" {
		name = filepath.Base(res.Root)
	}
	byPath := make(map[string]*File, len(res.Files))
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
	files := make([]*File, len(paths))
	for i, p := range paths {
		files[i] = byPath[p]
	}

	p := &Pack{Root: res.Root, Skipped: append([]Skipped(nil), res.Skipped...)}
	preamble := newSegment(KindPreamble, "", "", preambleText(name))
	kinds := make(map[string]SegmentKind, len(files))
	for _, f := range files {
		kinds[f.Path] = KindFile
		if opts.Compress && len(f.Symbols) > 0 {
			kinds[f.Path] = KindSkeleton
		}
	}
	var mapSeg Segment
	if opts.Budget > 0 {
		mapSeg = p.budget(files, kinds, preamble, opts)
	} else {
		mapSeg = newSegment(KindMap, "", "", mapText(files))
	}

	p.Segments = append(p.Segments, preamble)
	for _, f := range files {
		switch kinds[f.Path] {
		case KindFile:
			p.Segments = append(p.Segments, newSegment(KindFile, f.Path, f.Lang, fileText(f)))
		case KindSkeleton:
			p.Segments = append(p.Segments, newSegment(KindSkeleton, f.Path, f.Lang, skeletonText(f)))
		}
	}
	if mapSeg.Text != "" {
		p.Segments = append(p.Segments, mapSeg)
	}
	p.rechain()
	return p
}

// budget decides, in rank order, which files stay in full, which become
// skeletons and which remain only in the map, and returns the map segment.
// A tenth of the budget (at most 8,192 tokens) goes to the map first: it
// tells the model what exists even where the text did not fit.
func (p *Pack) budget(files []*File, kinds map[string]SegmentKind, preamble Segment, opts PackOptions) Segment {
	count := opts.Count
	if count == nil {
		count = EstimateTokens
	}
	ranked := opts.Rank
	if ranked == nil {
		all := make([]File, len(files))
		for i, f := range files {
			all[i] = *f
		}
		ranked = Rank(all, RankOptions{})
	}
	left := opts.Budget - count(preamble.Text)
	mapText := RepoMap(ranked, min(opts.Budget/10, 8192, max(left, 0)), count)
	var mapSeg Segment
	if mapText != "" {
		mapSeg = newSegment(KindMap, "", "", "<map>\n"+mapText+"</map>\n")
		left -= count(mapSeg.Text)
	}
	byPath := make(map[string]*File, len(files))
	for _, f := range files {
		byPath[f.Path] = f
	}
	var order []*File
	for _, r := range ranked {
		if f := byPath[r.Path]; f != nil {
			order = append(order, f)
		}
	}
	// Full text for the highest-ranked files up to a share of the budget,
	// then signatures for as many of the rest as fit, then full text again
	// for skeletons that can still grow: the model sees the most important
	// code whole and the shape of most of the rest.
	full := map[string]int{}
	skel := map[string]int{}
	for _, f := range order {
		if kinds[f.Path] == KindFile {
			full[f.Path] = count(fileText(f))
		}
		if len(f.Symbols) > 0 {
			skel[f.Path] = count(skeletonText(f))
		}
	}
	chosen := map[string]SegmentKind{}
	fullShare := left * 6 / 10
	for _, f := range order {
		if n, ok := full[f.Path]; ok && n <= fullShare && n <= left {
			chosen[f.Path] = KindFile
			fullShare -= n
			left -= n
		}
	}
	for _, f := range order {
		if n, ok := skel[f.Path]; ok && chosen[f.Path] == "" && n <= left {
			chosen[f.Path] = KindSkeleton
			left -= n
		}
	}
	for _, f := range order {
		n, ok := full[f.Path]
		if !ok || chosen[f.Path] == KindFile {
			continue
		}
		if grow := n - skel[f.Path]*boolInt(chosen[f.Path] == KindSkeleton); grow <= left {
			chosen[f.Path] = KindFile
			left -= grow
		}
	}
	for _, f := range order {
		k := chosen[f.Path]
		if k == "" {
			k = KindMap
		}
		if k != kinds[f.Path] {
			p.Reduced = append(p.Reduced, Reduced{Path: f.Path, To: k})
		}
		kinds[f.Path] = k
	}
	sort.Slice(p.Reduced, func(i, j int) bool { return p.Reduced[i].Path < p.Reduced[j].Path })
	return mapSeg
}

func newSegment(kind SegmentKind, path, lang, text string) Segment {
	sum := sha256.Sum256([]byte(text))
	return Segment{Kind: kind, Path: path, Lang: lang, Text: text, Hash: hex.EncodeToString(sum[:])}
}

// preambleText must not hold anything that changes between runs (no dates,
// no counts): any change to it invalidates the whole KV cache.
func preambleText(name string) string {
	return "The source code of the repository " + name + " follows, one section per file.\n" +
		"Each section starts with a line <file path=\"PATH\" lang=\"LANGUAGE\">, then holds the file's content, " +
		"and ends with a line </file>.\n" +
		"A file too large for the context is shown as a <skeleton path=\"PATH\"> section that holds only the signatures " +
		"of its definitions, with their line numbers.\n" +
		"After the files comes a <map> section that lists the files with the signatures of the definitions they hold " +
		"(functions, methods, types, constants and variables), so that you know what exists and where.\n" +
		"When the same path appears again later, the later section is the file's current content and supersedes " +
		"the earlier one; a <deleted path=\"PATH\"/> line means the file no longer exists.\n" +
		"Answer questions about this repository from these files.\n\n"
}

var attrEscaper = strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;", "\n", "&#10;", "\r", "&#13;")

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// skeletonText is a file's segment when only its signatures fit.
func skeletonText(f *File) string {
	return "<skeleton path=\"" + attrEscaper.Replace(f.Path) + "\" lang=\"" + attrEscaper.Replace(f.Lang) + "\">\n" +
		Skeleton(f) + "</skeleton>\n"
}

func fileText(f *File) string {
	var b strings.Builder
	b.Grow(len(f.Content) + len(f.Path) + 40)
	b.WriteString(`<file path="`)
	b.WriteString(attrEscaper.Replace(f.Path))
	b.WriteString(`" lang="`)
	b.WriteString(attrEscaper.Replace(f.Lang))
	b.WriteString("\">\n")
	b.Write(f.Content)
	if len(f.Content) > 0 && f.Content[len(f.Content)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString("</file>\n")
	return b.String()
}

// mapText lists every file and, indented under it, the signatures of its
// definitions.
func mapText(files []*File) string {
	var b strings.Builder
	b.WriteString("<map>\n")
	for _, f := range files {
		b.WriteString(f.Path)
		b.WriteByte('\n')
		for _, s := range f.Symbols {
			b.WriteString("  ")
			b.WriteString(s.Signature)
			b.WriteByte('\n')
		}
	}
	b.WriteString("</map>\n")
	return b.String()
}

// rechain recomputes every segment's Chain (and a missing Hash) in order.
func (p *Pack) rechain() {
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

// Chains returns the chain hashes in segment order.
func (p *Pack) Chains() []string {
	out := make([]string, len(p.Segments))
	for i, s := range p.Segments {
		out[i] = s.Chain
	}
	return out
}
