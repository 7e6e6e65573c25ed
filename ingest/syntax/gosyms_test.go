package syntax

import (
	"strings"
	"testing"

	"lore/ingest"
)

const goSample = `// Package demo is a sample.
package demo

import (
	"context"
	"io"
)

// Answer is a constant.
const Answer = 42

const (
	KindA Kind = iota
	KindB
	_
)

var (
	ErrX, ErrY = io.EOF, io.ErrUnexpectedEOF
	table      = map[string]int{
		"a": 1,
	}
)

var single int

type Kind int

type (
	Alias = string
	Pair[K comparable, V any] struct {
		Key K
		Val V
	}
)

// Server serves.
type Server struct {
	name string
}

type Asker interface {
	Ask(ctx context.Context) error
}

func New(name string) *Server { return &Server{name: name} }

func (s *Server) Ask(ctx context.Context) error {
	return nil
}

func (p Pair[K, V]) Swap() Pair[K, V] { return p }

func Map[T, U any](xs []T,
	f func(T) U,
) []U {
	return nil
}

func init() {}
`

func TestParseGo(t *testing.T) {
	syms, err := ParseGo([]byte(goSample))
	if err != nil {
		t.Fatal(err)
	}
	want := []ingest.Symbol{
		{Name: "Answer", Kind: ingest.SymConst, StartLine: 10, EndLine: 10, Signature: "const Answer = 42"},
		{Name: "KindA", Kind: ingest.SymConst, StartLine: 13, EndLine: 13, Signature: "const KindA Kind = iota"},
		{Name: "KindB", Kind: ingest.SymConst, StartLine: 14, EndLine: 14, Signature: "const KindB"},
		{Name: "ErrX", Kind: ingest.SymVar, StartLine: 19, EndLine: 19, Signature: "var ErrX, ErrY = io.EOF, io.ErrUnexpectedEOF"},
		{Name: "ErrY", Kind: ingest.SymVar, StartLine: 19, EndLine: 19, Signature: "var ErrX, ErrY = io.EOF, io.ErrUnexpectedEOF"},
		{Name: "table", Kind: ingest.SymVar, StartLine: 20, EndLine: 22, Signature: "var table = map[string]int{ …"},
		{Name: "single", Kind: ingest.SymVar, StartLine: 25, EndLine: 25, Signature: "var single int"},
		{Name: "Kind", Kind: ingest.SymType, StartLine: 27, EndLine: 27, Signature: "type Kind int"},
		{Name: "Alias", Kind: ingest.SymType, StartLine: 30, EndLine: 30, Signature: "type Alias = string"},
		{Name: "Pair", Kind: ingest.SymType, StartLine: 31, EndLine: 34, Signature: "type Pair[K comparable, V any] struct"},
		{Name: "Server", Kind: ingest.SymType, StartLine: 38, EndLine: 40, Signature: "type Server struct"},
		{Name: "Asker", Kind: ingest.SymType, StartLine: 42, EndLine: 44, Signature: "type Asker interface"},
		{Name: "New", Kind: ingest.SymFunc, StartLine: 46, EndLine: 46, Signature: "func New(name string) *Server"},
		{Name: "Server.Ask", Kind: ingest.SymMethod, StartLine: 48, EndLine: 50, Signature: "func (s *Server) Ask(ctx context.Context) error"},
		{Name: "Pair.Swap", Kind: ingest.SymMethod, StartLine: 52, EndLine: 52, Signature: "func (p Pair[K, V]) Swap() Pair[K, V]"},
		{Name: "Map", Kind: ingest.SymFunc, StartLine: 54, EndLine: 58, Signature: "func Map[T, U any](xs []T, f func(T) U) []U"},
		{Name: "init", Kind: ingest.SymFunc, StartLine: 60, EndLine: 60, Signature: "func init()"},
	}
	if len(syms) != len(want) {
		for _, s := range syms {
			t.Logf("%+v", s)
		}
		t.Fatalf("got %d symbols, want %d", len(syms), len(want))
	}
	for i := range want {
		if syms[i] != want[i] {
			t.Errorf("symbol %d:\n got %+v\nwant %+v", i, syms[i], want[i])
		}
	}
}

func TestParseGoBroken(t *testing.T) {
	for _, src := range []string{
		"",
		"package",
		"package x\nfunc (",
		"package x\nfunc Good() int { return 1 }\nfunc Bad( {\n\ntype T struct {",
		"\x00\xff\xfe garbage {{{ ))) func func type",
		"package x\nfunc (*) M() {}\nfunc () N() {}\n",
		strings.Repeat("(", 10000),
	} {
		syms, err := ParseGo([]byte(src))
		if err != nil {
			t.Errorf("ParseGo(%.20q): %v", src, err)
		}
		for _, s := range syms {
			if s.Name == "" || s.StartLine < 1 || s.EndLine < s.StartLine {
				t.Errorf("ParseGo(%.20q): bad symbol %+v", src, s)
			}
		}
	}
	syms, _ := ParseGo([]byte("package x\nfunc Good() int { return 1 }\nfunc Bad( {\n"))
	if len(syms) == 0 || syms[0].Name != "Good" {
		t.Errorf("recovered symbols = %+v, want Good first", syms)
	}
}

func TestFirstLine(t *testing.T) {
	long := "var x = \"" + strings.Repeat("é", 200) + "\""
	got := firstLine(long)
	if !strings.HasSuffix(got, " …") || len(got) > maxValueSig+len(" …") {
		t.Errorf("firstLine(long) = %q", got)
	}
	if !strings.HasPrefix(got, "var x = ") || strings.ContainsRune(got[:len(got)-len(" …")], '\uFFFD') {
		t.Errorf("firstLine cut a character: %q", got)
	}
}
