package ask

import (
	"bytes"
	"strings"
	"testing"
)

func TestBlockEnd(t *testing.T) {
	for s, want := range map[string]int{
		"no end yet":                          0,
		"para\n\nnext":                        6,
		"```go\nx\n\ny\n":                     0, // a blank line inside a fence ends nothing
		"```go\nx\n\ny\n```\n\nafter":         16,
		"one\n\ntwo\n\nthr":                   10,
		"```\ncode\n```\ntext\n\n~~~\na\n\nb": 19,
	} {
		if got := blockEnd(s); got != want {
			t.Errorf("blockEnd(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestMarkdownWriter renders an answer streamed in pieces that cut through
// words and a code fence: the text comes out rendered (no Markdown
// markers), whole, without glamour's line padding, and without color codes
// under NO_COLOR.
func TestMarkdownWriter(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var b bytes.Buffer
	w := newMarkdownWriter(&b)
	if _, ok := w.(*markdownWriter); !ok {
		t.Fatalf("got %T, want a markdownWriter", w)
	}
	for _, tok := range []string{"Some `co", "de` here.\n", "\n```go\nfunc x() {}\n\n", "}\n```\n- al", "pha\n- beta"} {
		w.token(tok)
	}
	if err := w.finish(nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Some code here.", "func x() {}", "• alpha", "• beta"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered answer lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "`") || strings.Contains(out, "\x1b[") {
		t.Errorf("rendered answer holds Markdown markers or color codes under NO_COLOR:\n%q", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %q keeps glamour's padding", l)
		}
	}
}

func TestTrimPadding(t *testing.T) {
	in := "\x1b[38;5;252mSome \x1b[0m\x1b[38;5;252mbold\x1b[0m\x1b[38;5;252m \x1b[0m\x1b[38;5;252m \x1b[0m"
	if got, want := trimPadding(in), "\x1b[38;5;252mSome \x1b[0m\x1b[38;5;252mbold\x1b[0m"; got != want {
		t.Errorf("trimPadding = %q", got)
	}
}
