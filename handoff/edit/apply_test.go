package edit

import (
	"reflect"
	"strings"
	"testing"
)

const goFile = `package p

import "fmt"

func A() {
	fmt.Println("a")
}

func B(x int) int {
	if x > 0 {
		return x
	}
	return -x
}

func C() {
	fmt.Println("c")
}
`

func TestApplyTolerances(t *testing.T) {
	for _, tc := range []struct {
		name            string
		file            string
		search, replace string
		want            string // the whole new file
		how             Match
		line, lines     int
	}{
		{"exact", goFile,
			"func A() {\n\tfmt.Println(\"a\")\n}\n", "func A() {\n\tfmt.Println(\"A\")\n}\n",
			strings.Replace(goFile, `"a"`, `"A"`, 1), MatchExact, 5, 3},
		{"trailing white space in SEARCH", goFile,
			"func A() {  \n\tfmt.Println(\"a\")\t\n}\n", "func A() {  \n\tfmt.Println(\"A\")\n}\n",
			strings.Replace(goFile, `"a"`, `"A"`, 1), MatchTrailing, 5, 3},
		{"trailing white space in the file", strings.Replace(goFile, "func A() {\n", "func A() { \n", 1),
			"func A() {\n\tfmt.Println(\"a\")\n}\n", "func A() {\n\tfmt.Println(\"A\")\n}\n",
			strings.Replace(strings.Replace(goFile, "func A() {\n", "func A() { \n", 1), `"a"`, `"A"`, 1), MatchTrailing, 5, 3},
		{"SEARCH less indented", goFile,
			"if x > 0 {\n\treturn x\n}\n", "if x >= 0 {\n\treturn x\n}\n",
			strings.Replace(goFile, "x > 0", "x >= 0", 1), MatchIndent, 10, 3},
		{"SEARCH more indented, with spaces", "def f():\n    if a:\n        b()\n    c()\n",
			"        if a:\n            b()\n", "        if a:\n            b()\n            d()\n",
			"def f():\n    if a:\n        b()\n        d()\n    c()\n", MatchIndent, 2, 2},
		{"REPLACE less indented than SEARCH's context", "def f():\n    if a:\n        b()\n    c()\n",
			"if a:\n    b()\n", "if a:\n    b()\nd()\n",
			"def f():\n    if a:\n        b()\n    d()\n    c()\n", MatchIndent, 2, 2},
		{"indentation, lines alike but for their indentation", "func f() {\n\tfor {\n\t\tif end {\n\t\t\tbreak\n\t\t}\n\t}\n\tif over {\n\t\tid := scanID(s.buf)\n\t}\n}\n",
			"\t}\n}\nif over {\n\tid := scanID(s.buf)\n", "\t}\n}\nif over {\n\tid := rpcwire.ScanID(s.buf)\n",
			"func f() {\n\tfor {\n\t\tif end {\n\t\t\tbreak\n\t\t}\n\t}\n\tif over {\n\t\tid := rpcwire.ScanID(s.buf)\n\t}\n}\n", MatchIndent, 5, 4},
		{"indentation, spaces added before tabs, REPLACE less indented", "func f() {\n\tif x {\n\t\treturn\n\t}\n}\n",
			"    \tif x {\n    \t\treturn\n    \t}\n", "    \tif x {\n    \t\treturn\n    \t}\n    }\n\n    func g() {\n",
			"func f() {\n\tif x {\n\t\treturn\n\t}\n}\n\nfunc g() {\n}\n", MatchIndent, 2, 3},
		{"blank first line in SEARCH", goFile,
			"\n\tfmt.Println(\"c\")\n}\n", "\n\tfmt.Println(\"C\")\n}\n",
			strings.Replace(goFile, `"c"`, `"C"`, 1), MatchBlank, 17, 2},
		{"blank last line in SEARCH", goFile,
			"func C() {\n\tfmt.Println(\"c\")\n}\n\n", "func C() {\n\tfmt.Println(\"C\")\n}\n\n",
			strings.Replace(goFile, `"c"`, `"C"`, 1), MatchBlank, 16, 3},
		{"blank edges and indentation", goFile,
			"\nif x > 0 {\n\treturn x\n}\n", "\nif x >= 0 {\n\treturn x\n}\n",
			strings.Replace(goFile, "x > 0", "x >= 0", 1), MatchBlank, 10, 3},
		{"blank line left out of SEARCH and REPLACE", goFile,
			"}\nfunc B(x int) int {\n\tif x > 0 {\n", "}\nfunc B(x int) int {\n\tif x >= 0 {\n",
			strings.Replace(goFile, "x > 0", "x >= 0", 1), MatchBlanks, 7, 4},
		{"blank line added to SEARCH and REPLACE", goFile,
			"func B(x int) int {\n\n\tif x > 0 {\n", "func B(x int) int {\n\n\tif x >= 0 {\n",
			strings.Replace(goFile, "x > 0", "x >= 0", 1), MatchBlanks, 9, 2},
		{"blank line left out, one inserted", goFile,
			"}\nfunc B(x int) int {\n", "}\n\n// B is absolute.\nfunc B(x int) int {\n",
			strings.Replace(goFile, "\nfunc B", "\n// B is absolute.\nfunc B", 1), MatchBlanks, 7, 3},
		{"elided unchanged lines", goFile,
			"func B(x int) int {\n...\n\treturn -x\n}\n", "func B(x int) int {\n...\n\treturn x * -1\n}\n",
			strings.Replace(goFile, "return -x", "return x * -1", 1), MatchElided, 9, 6},
		{"elided, later piece repeated before the first", goFile,
			"func C() {\n...\n}\n", "func C() {\n...\n}\n\nfunc D() {}\n",
			goFile + "\nfunc D() {}\n", MatchElided, 16, 3},
		{"elided, a piece found once only before the anchor", goFile,
			"}\n...\nfunc B(x int) int {\n", "}\n...\n// B.\nfunc B(x int) int {\n",
			strings.Replace(goFile, "\nfunc B", "\n// B.\nfunc B", 1), MatchElided, 7, 3},
		{"deleting lines", goFile,
			"func C() {\n\tfmt.Println(\"c\")\n}\n", "",
			strings.TrimSuffix(goFile, "func C() {\n\tfmt.Println(\"c\")\n}\n"), MatchExact, 16, 3},
		{"no final line break kept", "a\nb\nc",
			"b\n", "B\n", "a\nB\nc", MatchExact, 2, 1},
		{"last line without a break replaced", "a\nb\nc",
			"c\n", "C\nD\n", "a\nb\nC\nD", MatchExact, 3, 1},
		{"CRLF file", strings.ReplaceAll(goFile, "\n", "\r\n"),
			"func A() {\n\tfmt.Println(\"a\")\n}\n", "func A() {\n\tfmt.Println(\"A\")\n}\n",
			strings.ReplaceAll(strings.Replace(goFile, `"a"`, `"A"`, 1), "\n", "\r\n"), MatchExact, 5, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Apply([]Block{{Index: 1, Path: "p.go", Search: tc.search, Replace: tc.replace}}, map[string]string{"p.go": tc.file})
			if len(res.Failures) > 0 {
				t.Fatalf("failed: %+v", res.Failures)
			}
			if len(res.Changes) != 1 || res.Changes[0].New != tc.want {
				t.Fatalf("changes %+v\nwant new text %q", res.Changes, tc.want)
			}
			if res.Changes[0].Old != tc.file || !res.Changes[0].Existed {
				t.Errorf("change keeps Old %q, Existed %v", res.Changes[0].Old, res.Changes[0].Existed)
			}
			want := Applied{Block: 1, Path: "p.go", Line: tc.line, Lines: tc.lines, How: tc.how}
			if !reflect.DeepEqual(res.Applied, []Applied{want}) {
				t.Errorf("applied %+v, want %+v", res.Applied, want)
			}
		})
	}
}

func TestApplyRefusals(t *testing.T) {
	dup := "x := 1\ny := 2\n\nx := 1\ny := 2\n"
	for _, tc := range []struct {
		name    string
		block   Block
		files   map[string]string
		kind    FailKind
		reason  string
		nearest int // NearestLine, 0 for none
	}{
		{"absolute path", Block{Path: "/etc/passwd", Search: "root\n", Replace: "x\n"}, nil, FailPath, "absolute", 0},
		{"windows absolute path", Block{Path: `C:\x.go`, Search: "", Replace: "x\n"}, nil, FailPath, "absolute", 0},
		{"dot-dot", Block{Path: "a/../../x.go", Search: "", Replace: "x\n"}, nil, FailPath, "leaves the repository", 0},
		{"dot-dot backslash", Block{Path: `..\x.go`, Search: "", Replace: "x\n"}, nil, FailPath, "leaves the repository", 0},
		{"into .git", Block{Path: ".git/hooks/pre-commit", Search: "", Replace: "x\n"}, nil, FailPath, ".git", 0},
		{"empty path", Block{Path: " ", Search: "", Replace: "x\n"}, nil, FailPath, "empty", 0},
		{"no match", Block{Path: "p.go", Search: "func A() {\n\tfmt.Println(\"z\")\n}\n", Replace: "x\n"},
			map[string]string{"p.go": goFile}, FailNoMatch, "does not match", 5},
		{"no line in common", Block{Path: "p.go", Search: "nothing like it\n", Replace: "x\n"},
			map[string]string{"p.go": goFile}, FailNoMatch, "does not match", 0},
		{"matches twice", Block{Path: "p.go", Search: "x := 1\ny := 2\n", Replace: "z\n"},
			map[string]string{"p.go": dup}, FailAmbiguous, "matches 2 places (lines 1, 4)", 0},
		{"matches twice after trimming", Block{Path: "p.go", Search: "x := 1 \ny := 2\n", Replace: "z\n"},
			map[string]string{"p.go": dup}, FailAmbiguous, "matches 2 places", 0},
		{"matches twice re-indented", Block{Path: "p.go", Search: "  x := 1\n  y := 2\n", Replace: "z\n"},
			map[string]string{"p.go": dup}, FailAmbiguous, "matches 2 places", 0},
		{"matches twice without blank edge", Block{Path: "p.go", Search: "x := 1\ny := 2\n\n\n", Replace: "z\n"},
			map[string]string{"p.go": "x := 1\ny := 2\nx := 1\ny := 2\n"}, FailAmbiguous, "matches 2 places", 0},
		{"indentation not uniform", Block{Path: "p.go", Search: "if x > 0 {\n\t\treturn x\n}\n", Replace: "z\n"},
			map[string]string{"p.go": goFile}, FailNoMatch, "does not match", 10},
		{"blank lines ignored, still twice", Block{Path: "p.go", Search: "x := 1\n\ny := 2\n", Replace: "z\n"},
			map[string]string{"p.go": dup}, FailAmbiguous, "matches 2 places", 0},
		{"elided, first piece ambiguous", Block{Path: "p.go", Search: "}\n...\nfunc C() {\n", Replace: "}\n...\nfunc D() {\n"},
			map[string]string{"p.go": goFile}, FailAmbiguous, "piece 1 of 2", 0},
		{"elided, pieces out of order", Block{Path: "p.go", Search: "func C() {\n...\nfunc A() {\n", Replace: "func C() {\n...\nfunc Z() {\n"},
			map[string]string{"p.go": goFile}, FailNoMatch, "piece 2 of 2", 3},
		{"elided, unpaired", Block{Path: "p.go", Search: "func A() {\n...\n}\n", Replace: "func A() {\n}\n"},
			map[string]string{"p.go": goFile}, FailElision, "pair up", 0},
		{"elided, empty piece", Block{Path: "p.go", Search: "...\nfunc A() {\n", Replace: "...\nfunc Z() {\n"},
			map[string]string{"p.go": goFile}, FailElision, "no lines", 0},
		{"missing file", Block{Path: "q.go", Search: "x\n", Replace: "y\n"}, nil, FailMissing, "leave SEARCH empty", 0},
		{"create over an existing file", Block{Path: "p.go", Search: "", Replace: "package p\n"},
			map[string]string{"p.go": goFile}, FailExists, "exists and is not empty", 0},
		{"delete a missing file", Block{Path: "q.go", Delete: true}, nil, FailMissing, "cannot be deleted", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.block.Index = 1
			res := Apply([]Block{tc.block}, tc.files)
			if len(res.Applied) > 0 || len(res.Changes) > 0 {
				t.Fatalf("applied %+v, changes %+v; want a refusal", res.Applied, res.Changes)
			}
			if len(res.Failures) != 1 {
				t.Fatalf("failures %+v, want one", res.Failures)
			}
			f := res.Failures[0]
			if f.Kind != tc.kind || !strings.Contains(f.Reason, tc.reason) || f.Block != 1 {
				t.Errorf("failure %+v, want kind %s naming %q", f, tc.kind, tc.reason)
			}
			if f.NearestLine != tc.nearest || (tc.nearest > 0) != (f.Nearest != "") {
				t.Errorf("nearest lines from %d: %q; want from %d", f.NearestLine, f.Nearest, tc.nearest)
			}
		})
	}
}

func TestApplySequence(t *testing.T) {
	files := map[string]string{"p.go": goFile, "empty.txt": "", "gone.go": "package p\n"}
	blocks := []Block{
		{Index: 1, Path: "p.go", Search: "func A() {\n", Replace: "func A2() {\n"},
		{Index: 2, Path: "p.go", Search: "func A2() {\n\tfmt.Println(\"a\")\n", Replace: "func A2() {\n\tfmt.Println(\"a2\")\n"}, // sees block 1
		{Index: 3, Path: "p.go", Search: "func A2() {\n\tfmt.Println(\"zz\")\n", Replace: "x\n"},
		{Index: 4, Path: "./new/n.go", Search: "", Replace: "package n\n"},
		{Index: 5, Path: "empty.txt", Search: "", Replace: "now text\n"},
		{Index: 6, Path: "gone.go", Delete: true},
		{Index: 7, Path: "gone.go", Search: "package p\n", Replace: "x\n"},
		{Index: 8, Path: "made.go", Search: "", Replace: "package m\n"},
		{Index: 9, Path: "made.go", Delete: true},
	}
	res := Apply(blocks, files)
	if got := res.AppliedIndexes(); !reflect.DeepEqual(got, []int{1, 2, 4, 5, 6, 8, 9}) {
		t.Errorf("applied %v", got)
	}
	if len(res.Failures) != 2 || res.Failures[0].Block != 3 || res.Failures[1].Block != 7 || res.Failures[1].Kind != FailDeleted {
		t.Errorf("failures %+v", res.Failures)
	}
	want := []Change{
		{Path: "empty.txt", Old: "", New: "now text\n", Existed: true},
		{Path: "gone.go", Old: "package p\n", Existed: true, Delete: true},
		{Path: "new/n.go", New: "package n\n"},
		{Path: "p.go", Old: goFile, New: strings.Replace(goFile, "func A() {\n\tfmt.Println(\"a\")", "func A2() {\n\tfmt.Println(\"a2\")", 1), Existed: true},
	}
	if !reflect.DeepEqual(res.Changes, want) {
		t.Errorf("changes\n got %+v\nwant %+v", res.Changes, want)
	}

	note := RepairNote(res)
	for _, s := range []string{
		"2 of your edit blocks failed",
		"Blocks 1, 2, 4, 5, 6, 8 and 9 applied: do not send them again",
		"## Block 3 for path p.go did not apply",
		"## Block 7 for path gone.go did not apply\nblock 6 deleted gone.go",
		"The nearest lines of p.go (lines 5 to 6, as the file is now) are:\n```\nfunc A2() {\n\tfmt.Println(\"a2\")\n```",
	} {
		if !strings.Contains(note, s) {
			t.Errorf("repair note lacks %q:\n%s", s, note)
		}
	}
	if RepairNote(&Result{Applied: res.Applied}) != "" {
		t.Error("a repair note without failures")
	}
}
