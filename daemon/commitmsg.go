package daemon

import (
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"lore/api"
)

// maxBodyLines caps a drafted message's body: a draft is edited, not read
// as a report.
const maxBodyLines = 12

// conventionalSubject is `type(scope)!: subject`.
var conventionalSubject = regexp.MustCompile(`^[a-z]+(\([^()]*\))?!?: \S`)

// ansiEscape is a terminal control sequence (colors, cursor moves).
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// shapeMessage turns the model's text into a commit message git keeps as
// written: a subject of at most api.MaxSubjectChars characters, a blank
// line and a short body. Lines git would strip as comments lose their '#',
// fences and "Subject:" labels go, and a conventional subject that the
// model did not write as `type(scope): ...` gets a type and scope read from
// the files. An empty subject is returned as "" (no draft).
func shapeMessage(text, style string, files []api.DiffFile) (subject, body string) {
	var lines []string
	for _, l := range strings.Split(ansiEscape.ReplaceAllString(text, ""), "\n") {
		l = strings.TrimRightFunc(strings.Map(printable, l), unicode.IsSpace)
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			continue
		}
		lines = append(lines, strings.TrimLeft(l, "# "))
	}
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return "", ""
	}
	subject = strings.Join(strings.Fields(lines[0]), " ")
	for _, label := range []string{"Subject:", "subject:", "Commit message:"} {
		subject = strings.TrimSpace(strings.TrimPrefix(subject, label))
	}
	subject = strings.Trim(subject, "\"'`*")
	if subject == "" {
		return "", ""
	}
	if style == api.StyleConventional && !conventionalSubject.MatchString(subject) {
		subject = conventionalPrefix(files) + lowerFirst(subject)
	}
	subject = clipSubject(subject, api.MaxSubjectChars)
	rest := lines[1:]
	for len(rest) > 0 && strings.TrimSpace(rest[0]) == "" {
		rest = rest[1:]
	}
	if len(rest) > maxBodyLines {
		rest = rest[:maxBodyLines]
	}
	body = strings.TrimSpace(strings.Join(rest, "\n"))
	return subject, body
}

// printable drops control characters (the model's text goes into the
// user's editor).
func printable(r rune) rune {
	if r == '\t' || !unicode.IsControl(r) {
		return r
	}
	return -1
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if unicode.IsUpper(r) {
		return string(unicode.ToLower(r)) + s[n:]
	}
	return s
}

// clipSubject cuts s to at most max characters, at a word end when there
// is one in the second half.
func clipSubject(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:-")
}

// conventionalPrefix is `type(scope): ` read from the changed files: docs
// when only documentation changed, test when only tests, chore otherwise
// (the model's own type is kept when it wrote one); the scope is the one
// top folder all files share, if any.
func conventionalPrefix(files []api.DiffFile) string {
	typ := "chore"
	if len(files) > 0 && all(files, isDoc) {
		typ = "docs"
	} else if len(files) > 0 && all(files, isTest) {
		typ = "test"
	}
	scope := ""
	for i, f := range files {
		top, _, ok := strings.Cut(f.Path, "/")
		if !ok {
			top = ""
		}
		if i == 0 {
			scope = top
		} else if top != scope {
			scope = ""
		}
	}
	if scope != "" {
		return typ + "(" + scope + "): "
	}
	return typ + ": "
}

func all(files []api.DiffFile, pred func(string) bool) bool {
	for _, f := range files {
		if !pred(f.Path) {
			return false
		}
	}
	return true
}

func isDoc(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".md", ".rst", ".txt", ".adoc":
		return true
	}
	return strings.HasPrefix(p, "docs/") || strings.HasPrefix(p, "doc/")
}

func isTest(p string) bool {
	base := path.Base(p)
	return strings.HasSuffix(base, "_test.go") || strings.Contains(base, ".test.") || strings.Contains(base, ".spec.") ||
		strings.HasPrefix(base, "test_") || strings.HasPrefix(p, "test/") || strings.HasPrefix(p, "tests/") || strings.Contains(p, "/testdata/")
}
