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

// Segment kinds. Only preamble, file and map are produced so far; skeleton
// (signatures of a file too costly in full) and overlay (current versions of
// files edited since the base was built) are reserved for later.
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
	Omitted  []string  // paths left out by Fit because they did not fit the budget
}

// PackOptions tune BuildPack.
type PackOptions struct {
	// RepoName is the name shown in the preamble; default the base name of
	// the scan root.
	RepoName string
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
	files := make([]*File, len(res.Files))
	for i := range res.Files {
		files[i] = &res.Files[i]
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })

	segs := make([]Segment, 0, len(files)+2)
	segs = append(segs, newSegment(KindPreamble, "", "", preambleText(name)))
	for _, f := range files {
		segs = append(segs, newSegment(KindFile, f.Path, f.Lang, fileText(f)))
	}
	segs = append(segs, newSegment(KindMap, "", "", mapText(files)))

	p := &Pack{
		Root:     res.Root,
		Segments: segs,
		Skipped:  append([]Skipped(nil), res.Skipped...),
	}
	p.rechain()
	return p
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
		"After the files comes a <map> section that lists every file with the signatures of the definitions it holds " +
		"(functions, methods, types, constants and variables), so that you know what exists and where.\n" +
		"Answer questions about this repository from these files.\n\n"
}

var attrEscaper = strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;", "\n", "&#10;", "\r", "&#13;")

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

// Fit returns a copy of the pack cut down to budget tokens. tokens(i) is the
// token count of p.Segments[i]; it is called once per segment. The preamble
// is always kept; the map comes next in priority (it is small and tells the
// model what exists) and is left out, as MapOmitted, only when it alone does
// not fit; every other segment is kept, in order, while it still fits what is
// left of the budget: one too large is left out and the next ones are tried.
// The path of each segment left out is appended to Omitted, and the chain
// hashes are recomputed; p itself is not changed.
func (p *Pack) Fit(budget int, tokens func(i int) int) *Pack {
	counts := make([]int, len(p.Segments))
	used := 0
	for i, s := range p.Segments {
		counts[i] = max(tokens(i), 0)
		if s.Kind == KindPreamble {
			used += counts[i]
		}
	}
	// The map is budgeted before the files, since it tells the model what
	// exists, but it is dropped when it alone does not fit.
	keepMap := false
	for i, s := range p.Segments {
		if s.Kind == KindMap && used+counts[i] <= budget {
			used += counts[i]
			keepMap = true
		}
	}
	out := &Pack{
		Root:     p.Root,
		Segments: make([]Segment, 0, len(p.Segments)),
		Skipped:  append([]Skipped(nil), p.Skipped...),
		Omitted:  append([]string(nil), p.Omitted...),
	}
	for i, s := range p.Segments {
		switch s.Kind {
		case KindPreamble:
		case KindMap:
			if !keepMap {
				out.Omitted = append(out.Omitted, MapOmitted)
				continue
			}
		default:
			if used+counts[i] > budget {
				if s.Path != "" {
					out.Omitted = append(out.Omitted, s.Path)
				}
				continue
			}
			used += counts[i]
		}
		out.Segments = append(out.Segments, s)
	}
	out.rechain()
	return out
}

// MapOmitted stands in Pack.Omitted for a repository map that did not fit.
const MapOmitted = "(repository map)"

// Chains returns the chain hashes in segment order.
func (p *Pack) Chains() []string {
	out := make([]string, len(p.Segments))
	for i, s := range p.Segments {
		out[i] = s.Chain
	}
	return out
}
