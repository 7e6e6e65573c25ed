package edit

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseAnswer feeds Parse, then Apply, RepairNote and UnifiedDiff,
// arbitrary answers: none may panic, blocks are numbered in order with
// whole-line texts, every block either applies or fails, and no change
// escapes the repository. Seeds: testdata/fuzz/FuzzParseAnswer and the
// answers below.
func FuzzParseAnswer(f *testing.F) {
	f.Add(writeAnswer, false)
	f.Add(Instructions(FormatDiff), false)
	f.Add(Instructions(FormatWhole), true)
	f.Add("a.go\r\n```go\r\n<<<<<<< SEARCH\r\npackage a\r\n=======\r\n>>>>>>> REPLACE\r\n```\r\n", false)
	f.Add("```go ../x.go\n<<<<<<< SEARCH\n...\n=======\n...\n>>>>>>> REPLACE\n```\n", true)
	files := map[string]string{"a.go": "package a\n\nfunc A() {\n\treturn\n}\n", "greet/greet.go": "package greet\n"}
	f.Fuzz(func(t *testing.T, answer string, whole bool) {
		format := FormatDiff
		if whole {
			format = FormatWhole
		}
		blocks, err := Parse(answer, format)
		if err != nil {
			var se *SyntaxError
			if !errors.Is(err, ErrNoBlocks) && !errors.As(err, &se) {
				t.Fatalf("Parse: an error of another kind: %v", err)
			}
			return
		}
		for i, b := range blocks {
			if b.Index != i+1 || b.Path == "" || b.Line < 1 {
				t.Fatalf("block %d: %+v", i, b)
			}
			for _, s := range []string{b.Search, b.Replace} {
				if s != "" && !strings.HasSuffix(s, "\n") {
					t.Fatalf("block %d: text without a final line break: %q", i, s)
				}
			}
		}
		res := Apply(blocks, files)
		if len(res.Applied)+len(res.Failures) != len(blocks) {
			t.Fatalf("%d blocks, %d applied, %d failed", len(blocks), len(res.Applied), len(res.Failures))
		}
		for _, c := range res.Changes {
			if p, err := CleanPath(c.Path); err != nil || p != c.Path {
				t.Fatalf("change of %q: %v", c.Path, err)
			}
		}
		if (RepairNote(res) == "") != (len(res.Failures) == 0) {
			t.Fatal("a repair note without failures, or none with")
		}
		UnifiedDiff(res.Changes)
	})
}
