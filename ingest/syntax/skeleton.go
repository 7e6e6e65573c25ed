package syntax

import (
	"strconv"
	"strings"

	"lore/ingest"
)

// Skeleton reduces a file to the signatures of its definitions (f.Symbols,
// as scan.Scan fills them), one per line in source order, each with its line
// number and indented two spaces per level of nesting where the line ranges
// show it (methods under their class):
//
//	L5: class Greeter(Base)
//	  L9: def greet(self, loud=False) -> str
//	L16: def helper(x)
//
// It is what the pack holds for a file whose full text does not fit the
// budget. A file without symbols gives "". The same symbols always give the
// same text.
func Skeleton(f *ingest.File) string {
	if f == nil || len(f.Symbols) == 0 {
		return ""
	}
	var b strings.Builder
	var stack []skelScope
	for _, s := range f.Symbols {
		for len(stack) > 0 && !nests(stack[len(stack)-1], s) {
			stack = stack[:len(stack)-1]
		}
		for range len(stack) {
			b.WriteString("  ")
		}
		b.WriteByte('L')
		b.WriteString(strconv.Itoa(s.StartLine))
		b.WriteString(": ")
		sig := s.Signature
		if sig == "" {
			sig = s.Kind + " " + s.Name
		}
		b.WriteString(strings.ReplaceAll(sig, "\n", " "))
		b.WriteByte('\n')
		stack = append(stack, skelScope{s.StartLine, s.EndLine, s.Name})
	}
	return b.String()
}

// skelScope is a definition that may hold the next ones.
type skelScope struct {
	start, end int
	name       string
}

// nests reports whether s lies inside the definition o: within its lines,
// and either on fewer lines or named as its member ("Greeter.greet" under
// "Greeter").
func nests(o skelScope, s ingest.Symbol) bool {
	if s.StartLine < o.start || s.EndLine > o.end {
		return false
	}
	if s.StartLine != o.start || s.EndLine != o.end {
		return true
	}
	return strings.HasPrefix(s.Name, o.name+".")
}
