package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"syscall"
)

// File is one text file of the work tree, read in full.
type File struct {
	Path    string // slash-separated, relative to the root
	Lang    string // "go", "markdown", "text", ... (see syntax.DetectLang)
	Size    int64
	Hash    string // hex sha256 of Content
	Content []byte
	Symbols []Symbol // definitions (tree-sitter), in source order
	Refs    []string // identifiers the file uses (tree-sitter), sorted, unique
	Tracked bool     // listed in the git index (false for untracked files and outside git)

	// Stat is what the file's stat said when it was read; the zero FileStat
	// for a file that does not come from disk (an editor buffer), so that
	// the next scan reads it again.
	Stat FileStat
}

// FileStat identifies a version of a file on disk without reading it.
type FileStat struct {
	size, mtime int64 // mtime in nanoseconds
	ino         uint64
}

// StatOf is the FileStat of what fi describes.
func StatOf(fi fs.FileInfo) FileStat {
	st := FileStat{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// Skipped is a path the scan saw but left out, with the reason: "binary",
// "too large (N bytes > M limit)", "unreadable: ...", "symlink",
// "not a regular file", "vanished during scan", "nested git repository",
// "submodule", "vendored ...", "generated (...)", "secret: KIND"; for an
// editor buffer, "editor buffer: " and its reason, which may also be one
// that a scan leaves silent ("ignored by git ...", "inside .git ...").
type Skipped struct {
	Path, Reason string
}

// Symbol kinds: the first five are Go's, the others come from the languages
// beyond Go.
const (
	SymFunc      = "func"
	SymMethod    = "method"
	SymType      = "type"
	SymConst     = "const"
	SymVar       = "var"
	SymClass     = "class"
	SymStruct    = "struct"
	SymInterface = "interface"
	SymEnum      = "enum"
	SymTrait     = "trait"
	SymModule    = "module" // modules, namespaces, packages, objects
	SymMacro     = "macro"
	SymImpl      = "impl" // a Rust impl block; Name is the implementing type
)

// Symbol is one definition in a source file (for Go: top-level only).
type Symbol struct {
	// Name is the identifier; for methods it is "Recv.Name" (receiver
	// type without pointer or type arguments), so it is unique in a package.
	Name string
	// Kind is one of func, method, type, const, var for Go; other languages
	// add class, struct, interface, enum, trait, module, macro, impl.
	Kind string
	// StartLine and EndLine are 1-based and inclusive.
	StartLine, EndLine int
	// Signature is the declaration up to its body, on one line, e.g.
	// "func (s *Server) Ask(ctx context.Context) error" or "type Server struct".
	Signature string
}

// SegmentKind says what a segment of the pack holds.
type SegmentKind string

// Segment kinds. A skeleton holds the signatures of a file whose full text
// did not fit the budget (or all files with Compress); an overlay segment is
// the current version of a file edited since the base was built. A retrieved
// segment holds the files fetched for one question: files the question names
// that the pack does not hold in full. It goes just before the question,
// never into the cached prefix.
const (
	KindPreamble  SegmentKind = "preamble"
	KindFile      SegmentKind = "file"
	KindSkeleton  SegmentKind = "skeleton"
	KindMap       SegmentKind = "map"
	KindOverlay   SegmentKind = "overlay"
	KindRetrieved SegmentKind = "retrieved"
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

// NewSegment is a segment holding text, its Hash set and its Chain not yet.
func NewSegment(kind SegmentKind, path, lang, text string) Segment {
	sum := sha256.Sum256([]byte(text))
	return Segment{Kind: kind, Path: path, Lang: lang, Text: text, Hash: hex.EncodeToString(sum[:])}
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

// Chains returns the chain hashes in segment order.
func (p *Pack) Chains() []string {
	out := make([]string, len(p.Segments))
	for i, s := range p.Segments {
		out[i] = s.Chain
	}
	return out
}

var attrEscaper = strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;",
	"\n", "&#10;", "\r", "&#13;", "\v", "&#11;", "\f", "&#12;", "\u0085", "&#133;", "\u2028", "&#8232;", "\u2029", "&#8233;")

// EscapeAttr escapes s for an attribute of a section header in the prompt
// (path="...", lang="..."), so that no path can end the header early or
// break its line (every line break Fence knows is escaped).
func EscapeAttr(s string) string { return attrEscaper.Replace(s) }

// FileText is a file's section in the prompt: a header naming its path and
// language, its content fenced (see Fence: no line of it can close the
// section or open another), and the closing line. The pack and retrieval
// both place files this way, so the model reads one format.
func FileText(f *File) string {
	body := Fence(string(f.Content))
	var b strings.Builder
	b.Grow(len(body) + len(f.Path) + 40)
	b.WriteString(`<file path="`)
	b.WriteString(attrEscaper.Replace(f.Path))
	b.WriteString(`" lang="`)
	b.WriteString(attrEscaper.Replace(f.Lang))
	b.WriteString("\">\n")
	b.WriteString(body)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString("</file>\n")
	return b.String()
}
