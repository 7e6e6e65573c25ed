package syntax

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestFastQuerySplit checks that every language's query is split, and that
// the splitter cuts the query where tree-sitter does: the chain rules and
// the patterns left are all the query's patterns.
func TestFastQuerySplit(t *testing.T) {
	if !sitterLayoutOK {
		t.Fatal("go-tree-sitter's layout changed: the fast path is off")
	}
	for _, lang := range Languages() {
		g := grammarFor(lang)
		q, _, err := g.compiled()
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		f := g.fast
		if f == nil {
			t.Errorf("%s: no fast query", lang)
			continue
		}
		if len(f.refs.rules) == 0 {
			t.Errorf("%s: no chain references", lang)
		}
		left := uint32(0)
		if f.q != nil {
			left = f.q.PatternCount()
		}
		if got := uint32(len(f.refs.rules)) + left; got != q.PatternCount() {
			t.Errorf("%s: %d chain rules + %d patterns left, want %d patterns", lang, len(f.refs.rules), left, q.PatternCount())
		}
	}
}

func TestChainPattern(t *testing.T) {
	for _, c := range []struct {
		src    string
		syms   []string
		fields []string
	}{
		{"(type_identifier) @reference.type", []string{"type_identifier"}, []string{""}},
		{"(call_expression function: (selector_expression field: (field_identifier) @reference.call))",
			[]string{"field_identifier", "selector_expression", "call_expression"}, []string{"field", "function", ""}},
		{"(base_list (generic_name (identifier) @reference.class))",
			[]string{"identifier", "generic_name", "base_list"}, []string{"", "", ""}},
		{"(function_declaration name: (identifier) @name) @definition.function", nil, nil},
		{"((jsx_opening_element name: (identifier) @reference.class) (#match? @reference.class \"^[A-Z]\"))", nil, nil},
		{"(function_call (self_call_colon) (identifier) @reference.call)", nil, nil},
		{"(a (b) @reference.call .)", nil, nil},
		{"(a (b)? @reference.call)", nil, nil},
		{"(a !f (b) @reference.call)", nil, nil},
		{"(a (_) @reference.call)", nil, nil},
		{"(a [(b) (c)] @reference.call)", nil, nil},
		{"(a (b) @x @reference.call)", nil, nil},
		{"(a (b) @reference.call) @reference.type", nil, nil},
		{"(a (b \"x\") @reference.call)", nil, nil},
	} {
		pats, ok := splitPatterns([]byte(c.src))
		if !ok || len(pats) != 1 {
			t.Errorf("%s: split into %d patterns, ok %v", c.src, len(pats), ok)
			continue
		}
		syms, fields, isChain := chainPattern(pats[0].toks)
		if isChain != (c.syms != nil) || !reflect.DeepEqual(syms, c.syms) || !reflect.DeepEqual(fields, c.fields) {
			t.Errorf("%s: chain %v %q %q, want %q %q", c.src, isChain, syms, fields, c.syms, c.fields)
		}
	}
	src := "; c (x)\n(a) @reference.x (#eq? @reference.x \"(\")\n[(b) (c)] @reference.y\n(d)* @reference.z\n((e) @r (#match? @r \"\\\\\\\"[)]\"))"
	pats, ok := splitPatterns([]byte(src))
	if !ok || len(pats) != 4 {
		t.Fatalf("split %q: %d patterns, ok %v", src, len(pats), ok)
	}
	if got := src[pats[3].start:pats[3].end]; !strings.HasPrefix(got, "((e)") || !strings.HasSuffix(got, "))") {
		t.Errorf("last pattern %q", got)
	}
}

// TestFastMatchesPlain parses the samples and this package's own sources
// both ways: the fast path finds what the plain query finds.
func TestFastMatchesPlain(t *testing.T) {
	type input struct{ lang, src string }
	var inputs []input
	for lang, src := range syntaxSamples {
		inputs = append(inputs, input{lang, src})
	}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{"go", string(b)})
	}
	n := 0
	walked := map[string]bool{}
	for _, in := range inputs {
		g := grammarFor(in.lang)
		q, preds, err := g.compiled()
		if err != nil {
			t.Fatal(err)
		}
		parser := g.getParser()
		tree, err := parser.ParseCtx(context.Background(), nil, []byte(in.src))
		g.putParser(parser)
		if err != nil {
			t.Fatal(err)
		}
		root := tree.RootNode()
		if root.HasError() {
			tree.Close()
			continue
		}
		if g.fast.refs.walk(root, []byte(in.src), map[string]bool{}) {
			walked[in.lang] = true
		}
		fast := g.extractWith(g.fast, q, preds, root, []byte(in.src))
		plain := g.extractWith(nil, q, preds, root, []byte(in.src))
		tree.Close()
		if !reflect.DeepEqual(fast, plain) {
			t.Errorf("%s %.40q: fast\n%v\nplain\n%v", in.lang, in.src, fast, plain)
		}
		if len(plain.Refs) > 0 {
			n++
		}
	}
	if n < len(syntaxSamples) {
		t.Errorf("only %d inputs with references", n)
	}
	// Lua's and Scala's samples have fields on hidden nodes: the query
	// does their references.
	if len(walked) < 12 || !walked["go"] {
		t.Errorf("the walk found the references of %v only", walked)
	}
}
