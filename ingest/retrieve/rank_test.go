package retrieve

import (
	"strings"
	"testing"

	"lore/ingest"
)

// TestRetrieveByContent: a question that names no file finds the one whose
// identifiers hold its words, whole, and spends the rest of its
// allowance on the next best files that fit, best first.
func TestRetrieveByContent(t *testing.T) {
	files := []*ingest.File{
		{Path: "a/conn.go", Lang: "go", Content: []byte("package a\n\nfunc dialTimeout() {}\n")},
		{Path: "b/flags.go", Lang: "go", Content: []byte("package b\n\nfunc parseLocalFlags() {}\nfunc mergePersistentFlags() {}\n")},
		{Path: "c/help.go", Lang: "go", Content: []byte("package c\n\n// help text for local commands\nfunc usage() {}\n")},
		{Path: "d/huge.go", Lang: "go", Content: []byte("package d\n\n// local flags\n" + strings.Repeat("var x = 1\n", 400))},
	}
	_, got := Retrieve("clarify that LocalFlags include the persistent flags", files, 200, nil)
	want := "b/flags.go,c/help.go" // d/huge.go matches too but does not fit whole; a/conn.go shares no word
	if strings.Join(got, ",") != want {
		t.Errorf("retrieved %v, want %s", got, want)
	}
}

// TestRetrievePairsTests: a retrieved source file brings its test, and a
// retrieved test its source, when they fit.
func TestRetrievePairsTests(t *testing.T) {
	files := []*ingest.File{
		{Path: "cmd/command.go", Lang: "go", Content: []byte("package cmd\n\nfunc ExecuteContext() {}\n")},
		{Path: "cmd/command_test.go", Lang: "go", Content: []byte("package cmd\n\nfunc TestRun() {}\n")},
		{Path: "cmd/other.go", Lang: "go", Content: []byte("package cmd\n\nfunc Other() {}\n")},
		{Path: "src/app/sessions.py", Lang: "python", Content: []byte("def open_session():\n    pass\n")},
		{Path: "tests/test_sessions.py", Lang: "python", Content: []byte("def test_cookie_samesite():\n    pass\n")},
	}
	for _, tc := range []struct{ q, want string }{
		{"ExecuteContext returns the error", "cmd/command.go,cmd/command_test.go"},
		{"fix cookie samesite", "tests/test_sessions.py,src/app/sessions.py"},
	} {
		if _, got := Retrieve(tc.q, files, 1000, nil); strings.Join(got, ",") != tc.want {
			t.Errorf("%q retrieved %v, want %s", tc.q, got, tc.want)
		}
	}
	// No room for the partner: the match alone.
	if _, got := Retrieve("ExecuteContext returns the error", files, 70, nil); strings.Join(got, ",") != "cmd/command.go" {
		t.Errorf("in 70 tokens retrieved %v, want cmd/command.go alone", got)
	}
}

func TestTestSubject(t *testing.T) {
	for _, tc := range []struct {
		path, subject string
		test          bool
	}{
		{"cmd/command.go", "command", false},
		{"cmd/command_test.go", "command", true},
		{"tests/test_app.py", "app", true},
		{"src/flask/app.py", "app", false},
		{"lib/router.test.js", "router", true},
		{"test/router.js", "router", true},
		{"src/Parser.spec.ts", "parser", true},
		{"src/main/java/FooTest.java", "foo", true},
		{"tokio/tests/io_read.rs", "io_read", true},
	} {
		if s, isTest := testSubject(tc.path); s != tc.subject || isTest != tc.test {
			t.Errorf("testSubject(%q) = %q, %v; want %q, %v", tc.path, s, isTest, tc.subject, tc.test)
		}
	}
}
