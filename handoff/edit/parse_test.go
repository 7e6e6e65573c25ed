package edit

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const fence = "```"

func TestParse(t *testing.T) {
	sr := "<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n"
	one := []Block{{Index: 1, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 3}}
	for _, tc := range []struct {
		name   string
		answer string
		format Format
		want   []Block
	}{
		{"path before fence", "a/b.go\n" + fence + "go\n" + sr + fence + "\n", FormatDiff, one},
		{"path in fence with language", "Some text.\n" + fence + "go a/b.go\n" + sr + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 3}}},
		{"path alone in fence opening", fence + "a/b.go\n" + sr + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 2}}},
		{"backticks around path", "`a/b.go`\n" + fence + "go\n" + sr + fence + "\n", FormatDiff, one},
		{"bold path with colon", "**a/b.go**:\n" + fence + "go\n" + sr + fence + "\n", FormatDiff, one},
		{"quoted path", "\"a/b.go\"\n" + fence + "go\n" + sr + fence + "\n", FormatDiff, one},
		{"heading path", "### a/b.go\n" + fence + "go\n" + sr + fence + "\n", FormatDiff, one},
		{"path inside fence", fence + "go\na/b.go\n" + sr + fence + "\n", FormatDiff, one},
		{"CRLF", strings.ReplaceAll("a/b.go\n"+fence+"go\n"+sr+fence+"\n", "\n", "\r\n"), FormatDiff, one},
		{"no fence", "a/b.go\n" + sr, FormatDiff,
			[]Block{{Index: 1, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 2}}},
		{"long markers", "a/b.go\n" + fence + "\n<<<<<<<<< SEARCH\nold\n=========\nnew\n>>>>>>>>> REPLACE\n" + fence + "\n", FormatDiff, one},
		{"several blocks per fence", "a/b.go\n" + fence + "go\n" + sr + sr + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 3},
				{Index: 2, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 8}}},
		{"second fence without path takes the previous path", "a/b.go\n" + fence + "go\n" + sr + fence + "\nand then\n\n" + fence + "go\n" + sr + fence, FormatDiff,
			[]Block{{Index: 1, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 3},
				{Index: 2, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 12}}},
		{"two files", "a/b.go\n" + fence + "go\n" + sr + fence + "\nc.txt\n" + fence + "\n" + sr + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 3},
				{Index: 2, Path: "c.txt", Search: "old\n", Replace: "new\n", Line: 11}}},
		{"create", "n.go\n" + fence + "go\n<<<<<<< SEARCH\n=======\npackage n\n>>>>>>> REPLACE\n" + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "n.go", Replace: "package n\n", Line: 3}}},
		{"empty replace", "a/b.go\n" + fence + "\n<<<<<<< SEARCH\nold\n=======\n>>>>>>> REPLACE\n" + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "a/b.go", Search: "old\n", Line: 3}}},
		{"delete", "old.go\n" + fence + "\n<<<<<<< DELETE\n" + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "old.go", Delete: true, Line: 3}}},
		{"fences inside the content are content", "README.md\n" + fence + "markdown\n<<<<<<< SEARCH\n" + fence + "sh\nmake\n" + fence + "\n=======\n" + fence + "sh\nmake all\n" + fence + "\n>>>>>>> REPLACE\n" + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "README.md", Search: fence + "sh\nmake\n" + fence + "\n", Replace: fence + "sh\nmake all\n" + fence + "\n", Line: 3}}},
		{"markers inside the text nest", "doc.md\n" + fence + "\n<<<<<<< SEARCH\nx\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n=======\ny\n>>>>>>> REPLACE\n" + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "doc.md", Search: "x\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n", Replace: "y\n", Line: 3}}},
		{"diff format ignores plain code", "Like this:\n" + fence + "go\nx := 1\n" + fence + "\na/b.go\n" + fence + "go\n" + sr + fence + "\n", FormatDiff,
			[]Block{{Index: 1, Path: "a/b.go", Search: "old\n", Replace: "new\n", Line: 7}}},
		{"whole", "a/b.go\n" + fence + "go\npackage b\n\nfunc F() {}\n" + fence + "\n", FormatWhole,
			[]Block{{Index: 1, Path: "a/b.go", Replace: "package b\n\nfunc F() {}\n", Whole: true, Line: 2}}},
		{"whole with path in fence", fence + "go a/b.go\npackage b\n" + fence + "\n", FormatWhole,
			[]Block{{Index: 1, Path: "a/b.go", Replace: "package b\n", Whole: true, Line: 1}}},
		{"whole Markdown with inner fences", "README.md\n" + fence + "markdown\n# T\n" + fence + "sh\nmake\n" + fence + "\nend\n" + fence + "\n", FormatWhole,
			[]Block{{Index: 1, Path: "README.md", Replace: "# T\n" + fence + "sh\nmake\n" + fence + "\nend\n", Whole: true, Line: 2}}},
		{"whole with four-backtick fence", "README.md\n````\n" + fence + "\nx\n" + fence + "\n````\n", FormatWhole,
			[]Block{{Index: 1, Path: "README.md", Replace: fence + "\nx\n" + fence + "\n", Whole: true, Line: 2}}},
		{"whole format reads SEARCH blocks", "a/b.go\n" + fence + "go\n" + sr + fence + "\n", FormatWhole, one},
		{"whole format delete", "old.go\n" + fence + "\n<<<<<<< DELETE\n" + fence + "\n", FormatWhole,
			[]Block{{Index: 1, Path: "old.go", Delete: true, Line: 3}}},
		{"whole skips fences without a path", "Run:\n\n" + fence + "sh\ngo test\n" + fence + "\nx.go\n" + fence + "go\npackage x\n" + fence + "\n", FormatWhole,
			[]Block{{Index: 1, Path: "x.go", Replace: "package x\n", Whole: true, Line: 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.answer, tc.format)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		noBlocks     bool
		line         int
		msg          string
	}{
		{"empty", "", true, 0, ""},
		{"prose", "I think you should rename the function.", true, 0, ""},
		{"code without markers", "a.go\n" + fence + "go\npackage a\n" + fence + "\n", true, 0, ""},
		{"no divider", "a.go\n" + fence + "\n<<<<<<< SEARCH\nold\n>>>>>>> REPLACE\n" + fence, false, 5, "======="},
		{"no replace marker", "a.go\n" + fence + "\n<<<<<<< SEARCH\nold\n=======\nnew\n" + fence, false, 3, "REPLACE"},
		{"second search before replace", "a.go\n" + fence + "\n<<<<<<< SEARCH\nold\n=======\nnew\n<<<<<<< SEARCH\n", false, 3, "REPLACE"},
		{"no path", fence + "\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n" + fence, false, 2, "path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.answer, FormatDiff)
			if tc.noBlocks {
				if !errors.Is(err, ErrNoBlocks) {
					t.Fatalf("Parse: %v, want ErrNoBlocks", err)
				}
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse: %v, want a *SyntaxError", err)
			}
			if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Parse: %v, want line %d naming %q", err, tc.line, tc.msg)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": FormatDiff, "diff": FormatDiff, " whole ": FormatWhole} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("udiff"); err == nil || !strings.Contains(err.Error(), "\"diff\"") {
		t.Errorf("ParseFormat(udiff) = %v, want an error naming the formats", err)
	}
}

// The instructions' own example must parse and apply: it is what the
// model copies.
func TestInstructionsExample(t *testing.T) {
	files := map[string]string{
		"greet/greet.go": "package greet\n\nfunc Hello(name string) string {\n\treturn \"Hello, \" + name\n}\n",
		"greet/old.go":   "package greet\n",
	}
	for _, f := range []Format{FormatDiff, FormatWhole} {
		text := Instructions(f)
		_, example, ok := strings.Cut(text, "Example:")
		if !ok {
			t.Fatalf("%s instructions have no example", f)
		}
		blocks, err := Parse(example, f)
		if err != nil {
			t.Fatalf("%s example: %v", f, err)
		}
		res := Apply(blocks, files)
		if len(res.Failures) > 0 {
			t.Fatalf("%s example: %+v", f, res.Failures)
		}
		var deleted bool
		for _, c := range res.Changes {
			if c.Path == "greet/greet.go" && !strings.Contains(c.New, "func Hello(who string) string {\n\treturn \"Hello, \" + who\n}") {
				t.Errorf("%s example: greet.go became %q", f, c.New)
			}
			deleted = deleted || c.Path == "greet/old.go" && c.Delete
		}
		if !deleted {
			t.Errorf("%s example did not delete greet/old.go: %+v", f, res.Changes)
		}
	}
}
