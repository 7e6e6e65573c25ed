package api

import (
	"slices"
	"strings"
)

// SeenNote says which files retrieved for a question the answer saw in
// full and which only as excerpts, as `ask` and the LSP's answer document
// show it: "saw in full: a.go, a_test.go; as excerpts: b.go". full is
// AskResult.RetrievedFull, retrieved AskResult.Retrieved (the excerpts are
// the rest); "" when nothing was retrieved.
func SeenNote(full, retrieved []string) string {
	var parts []string
	if len(full) > 0 {
		parts = append(parts, "saw in full: "+strings.Join(full, ", "))
	}
	var excerpts []string
	for _, p := range retrieved {
		if !slices.Contains(full, p) {
			excerpts = append(excerpts, p)
		}
	}
	if len(excerpts) > 0 {
		parts = append(parts, "as excerpts: "+strings.Join(excerpts, ", "))
	}
	return strings.Join(parts, "; ")
}
