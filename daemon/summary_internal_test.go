package daemon

import (
	"strings"
	"testing"
	"unicode/utf8"

	"lore/api"
)

// A diff over the budget is reduced per file: small files stay whole, the
// large ones share the rest, each keeps its "diff --git" line, and files
// named only are listed.
func TestReduceSharesTheBudget(t *testing.T) {
	small := "diff --git a/s b/s\n+one\n"
	big := "diff --git a/b b/b\n" + strings.Repeat("+a line of the big file\n", 400)
	huge := "diff --git a/h b/h\n" + strings.Repeat("+a line of the huge file\n", 4000)
	files := []fileDiff{{path: "h", text: huge}, {path: "s", text: small}, {path: "b", text: big}, {path: "go.sum", text: "diff --git a/go.sum b/go.sum\n+x\n", byName: "generated (lock file)"}}
	const budget = 4000
	text, out := reduce(files, budget)
	if len(text) > budget+200 {
		t.Errorf("reduced to %d bytes, budget %d", len(text), budget)
	}
	if !strings.Contains(text, small) || out[1].Reduced != "" {
		t.Errorf("the small file was not kept whole: %+v", out[1])
	}
	for i, name := range []string{"h", "b"} {
		idx := []int{0, 2}[i]
		if !strings.Contains(text, "diff --git a/"+name+" b/"+name+"\n") || !strings.HasPrefix(out[idx].Reduced, "cut to ") {
			t.Errorf("%s: %+v", name, out[idx])
		}
	}
	if strings.Index(text, "a/h b/h") > strings.Index(text, "a/s b/s") {
		t.Errorf("the files are out of git's order:\n%s", text)
	}
	if !strings.Contains(text, "go.sum (generated (lock file))") || strings.Contains(text, "a/go.sum") || !strings.HasPrefix(out[3].Reduced, "by name only") {
		t.Errorf("the lock file: %+v\n%s", out[3], text)
	}
	// A share smaller than a file's first line keeps that line.
	text, _ = reduce([]fileDiff{{path: "h", text: huge}}, 5)
	if !strings.HasPrefix(text, "diff --git a/h b/h\n[...") {
		t.Errorf("tiny budget: %q", text)
	}
}

func TestShapeMessage(t *testing.T) {
	files := []api.DiffFile{{Path: "daemon/a.go"}, {Path: "daemon/b.go"}}
	cases := []struct {
		text, style, subject, body string
	}{
		{"Fix the thing\n\nBecause it broke.\n", "", "Fix the thing", "Because it broke."},
		{"\n```\n# Subject: \"Add hooks\"\nWhy: users asked.\n```", "", "Add hooks", "Why: users asked."},
		{"Add hooks\x1b[31m\n", api.StyleConventional, "chore(daemon): add hooks", ""},
		{"fix(api): keep ids", api.StyleConventional, "fix(api): keep ids", ""},
		{strings.Repeat("word ", 30), "", strings.TrimSpace(strings.Repeat("word ", 14)), ""},
		{"\n \n", "", "", ""},
	}
	for _, c := range cases {
		s, b := shapeMessage(c.text, c.style, files)
		if s != c.subject || b != c.body {
			t.Errorf("shapeMessage(%q, %q) = %q, %q; want %q, %q", c.text, c.style, s, b, c.subject, c.body)
		}
		if utf8.RuneCountInString(s) > api.MaxSubjectChars {
			t.Errorf("subject over %d characters: %q", api.MaxSubjectChars, s)
		}
	}
	if p := conventionalPrefix([]api.DiffFile{{Path: "README.md"}, {Path: "docs/x.md"}}); p != "docs: " {
		t.Errorf("docs prefix %q", p)
	}
}
