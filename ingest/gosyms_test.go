package ingest

import (
	"strings"
	"testing"
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
	want := []Symbol{
		{"Answer", SymConst, 10, 10, "const Answer = 42"},
		{"KindA", SymConst, 13, 13, "const KindA Kind = iota"},
		{"KindB", SymConst, 14, 14, "const KindB"},
		{"ErrX", SymVar, 19, 19, "var ErrX, ErrY = io.EOF, io.ErrUnexpectedEOF"},
		{"ErrY", SymVar, 19, 19, "var ErrX, ErrY = io.EOF, io.ErrUnexpectedEOF"},
		{"table", SymVar, 20, 22, "var table = map[string]int{ …"},
		{"single", SymVar, 25, 25, "var single int"},
		{"Kind", SymType, 27, 27, "type Kind int"},
		{"Alias", SymType, 30, 30, "type Alias = string"},
		{"Pair", SymType, 31, 34, "type Pair[K comparable, V any] struct"},
		{"Server", SymType, 38, 40, "type Server struct"},
		{"Asker", SymType, 42, 44, "type Asker interface"},
		{"New", SymFunc, 46, 46, "func New(name string) *Server"},
		{"Server.Ask", SymMethod, 48, 50, "func (s *Server) Ask(ctx context.Context) error"},
		{"Pair.Swap", SymMethod, 52, 52, "func (p Pair[K, V]) Swap() Pair[K, V]"},
		{"Map", SymFunc, 54, 58, "func Map[T, U any](xs []T, f func(T) U) []U"},
		{"init", SymFunc, 60, 60, "func init()"},
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
