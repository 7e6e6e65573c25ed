package pack

import (
	"fmt"
	"strings"
	"testing"

	"lore/ingest"
	"lore/ingest/scan"
)

// TestBudgetWholeFilesFirst: the budget goes to whole files in rank order
// before any skeleton, so no file is reduced that would have fit whole
// when its turn came. (The old rule kept whole files to 60% of the budget
// and gave the rest to skeletons: lore bench localize found the prefix
// holding only 13k of its 25k tokens as whole files at a 32k context, and
// fewer of the files a change needed.)
func TestBudgetWholeFilesFirst(t *testing.T) {
	res := &scan.Result{Root: "/r"}
	for i := range 12 {
		var b strings.Builder
		b.WriteString("package p\n\n")
		var syms []ingest.Symbol
		for j := range 4 + i%3 {
			fmt.Fprintf(&b, "func F%d_%d() {\n%s}\n", i, j, strings.Repeat("\tx := 1\n", 10))
			syms = append(syms, ingest.Symbol{Name: fmt.Sprintf("F%d_%d", i, j), Kind: ingest.SymFunc, Signature: fmt.Sprintf("func F%d_%d()", i, j), StartLine: 3 + j*12, EndLine: 14 + j*12})
		}
		res.Files = append(res.Files, ingest.File{Path: fmt.Sprintf("p/f%02d.go", i), Lang: "go", Content: []byte(b.String()), Symbols: syms})
	}
	total := 0
	for i := range res.Files {
		total += ingest.EstimateTokens(ingest.FileText(&res.Files[i]))
	}
	budget := total * 3 / 4
	p := Build(res, Options{Budget: budget})
	used, whole := 0, 0
	seg := map[string]int{}
	for _, s := range p.Segments {
		n := ingest.EstimateTokens(s.Text)
		used += n
		seg[s.Path] = n
		if s.Kind == ingest.KindFile {
			whole++
		}
	}
	if used > budget {
		t.Fatalf("the pack takes %d tokens, over its budget of %d", used, budget)
	}
	for _, r := range p.Reduced {
		f := &res.Files[0]
		for i := range res.Files {
			if res.Files[i].Path == r.Path {
				f = &res.Files[i]
			}
		}
		if n := ingest.EstimateTokens(ingest.FileText(f)); n <= budget-used+seg[r.Path] {
			t.Errorf("%s (%d tokens) was reduced to a %s with %d tokens of the budget left", r.Path, n, r.To, budget-used)
		}
	}
	if whole < 7 {
		t.Errorf("%d whole files in three quarters of the repository's tokens, want at least 7 of 12 (the map takes a tenth)", whole)
	}
}
