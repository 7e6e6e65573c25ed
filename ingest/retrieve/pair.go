package retrieve

import (
	"path"
	"strings"

	"lore/ingest"
)

// A change to a source file usually changes its tests too, and a question
// about a test needs the code it tests: a retrieved file brings its
// partner (command.go and command_test.go, app.py and test_app.py,
// router.js and test/router.js) when it fits.

// testDirs are folder names that hold tests.
var testDirs = map[string]bool{"test": true, "tests": true, "__tests__": true, "spec": true, "specs": true, "testing": true}

// testSubject returns the name p is tested under, lower-cased (command
// for command.go, command_test.go, test_command.py, command.test.js,
// command.spec.ts, CommandTest.java), and whether p is a test.
func testSubject(p string) (subject string, isTest bool) {
	parts := strings.Split(strings.ToLower(p), "/")
	for _, d := range parts[:len(parts)-1] {
		if testDirs[d] {
			isTest = true
		}
	}
	base := parts[len(parts)-1]
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if s, ok := strings.CutPrefix(stem, "test_"); ok {
		return s, true
	}
	for _, suf := range []string{"_test", ".test", ".spec", "_spec", "_tests"} {
		if s, ok := strings.CutSuffix(stem, suf); ok {
			return s, true
		}
	}
	if ext == ".java" || ext == ".kt" || ext == ".cs" || ext == ".swift" || ext == ".scala" {
		for _, suf := range []string{"tests", "test"} {
			if s, ok := strings.CutSuffix(stem, suf); ok && s != "" {
				return s, true
			}
		}
	}
	return stem, isTest
}

// partners maps each candidate to the candidates that test it or that it
// tests: the same subject, the other side, the same language. Subjects
// shorter than three letters, or with more than maxPartners files on the
// other side ("mod", "index" in every folder), pair nothing, unless the
// two share a folder.
type partners struct {
	bySubject map[string][]*ingest.File
}

const maxPartners = 3

func newPartners(files []*ingest.File) partners {
	p := partners{bySubject: map[string][]*ingest.File{}}
	for _, f := range files {
		if s, _ := testSubject(f.Path); len(s) >= 3 {
			p.bySubject[s] = append(p.bySubject[s], f)
		}
	}
	return p
}

// of returns f's partner, nil when it has none: the one in f's folder,
// or else the only one (of at most maxPartners) whose folder shares the
// most leading names with f's.
func (p partners) of(f *ingest.File) *ingest.File {
	s, isTest := testSubject(f.Path)
	var same []*ingest.File
	for _, g := range p.bySubject[s] {
		if _, t := testSubject(g.Path); t != isTest && g.Lang == f.Lang {
			same = append(same, g)
		}
	}
	dir := path.Dir(f.Path)
	for _, g := range same {
		if path.Dir(g.Path) == dir {
			return g
		}
	}
	if len(same) == 0 || len(same) > maxPartners {
		return nil
	}
	best, bestN := same[0], -1
	for _, g := range same {
		if n := commonDirs(dir, path.Dir(g.Path)); n > bestN {
			best, bestN = g, n
		}
	}
	return best
}

// commonDirs counts the leading folder names a and b share.
func commonDirs(a, b string) int {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	n := 0
	for n < len(as) && n < len(bs) && as[n] == bs[n] {
		n++
	}
	return n
}
