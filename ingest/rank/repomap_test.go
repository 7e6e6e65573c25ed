package rank

import (
	"fmt"
	"strings"
	"testing"

	"lore/ingest"
)

func TestRepoMapFormat(t *testing.T) {
	rs := Rank(rankSyntheticRepo(), Options{})
	got := RepoMap(rs, 1000, nil)
	want := "util.go:\n  L1: func ComputeChecksum()\n  L2: func rarelyUsed()\n" +
		"model.go:\n  L1: func NewModel()\n  L2: func Validate()\n" +
		"a.go:\n  L1: func handleA()\n" +
		"b.go:\n  L1: func handleB()\n" +
		"c.go:\n  L1: func handleC()\n" +
		"d.go:\n  L1: func handleD()\n"
	// README.md has no definitions: listed by path, at its rank position.
	want = strings.Replace(want, "a.go:", "README.md\na.go:", 1)
	if got != want {
		t.Errorf("RepoMap =\n%s\nwant\n%s", got, want)
	}
}

func TestRepoMapBudget(t *testing.T) {
	files := rankSyntheticRepo()
	for i := range 40 {
		files = append(files, rankFile(fmt.Sprintf("pkg/leaf%02d.go", i),
			[]string{fmt.Sprintf("leafFunc%02d", i), fmt.Sprintf("otherFunc%02d", i)}, "ComputeChecksum", "NewModel"))
	}
	rs := Rank(files, Options{})
	counters := map[string]func(string) int{
		"estimate": ingest.EstimateTokens,
		"len/4":    func(s string) int { return len(s) / 4 },
		"lines":    func(s string) int { return strings.Count(s, "\n") },
	}
	for name, count := range counters {
		prev := ""
		for budget := 0; budget <= 1200; budget += 7 {
			got := RepoMap(rs, budget, count)
			if n := count(got); n > budget {
				t.Fatalf("%s budget %d: map counts %d", name, budget, n)
			}
			if strings.Contains(got, "  L") && !strings.HasPrefix(got, "util.go:\n  L1: func ComputeChecksum()\n") ||
				got != "" && !strings.HasPrefix(got, "util.go") {
				t.Fatalf("%s budget %d: map does not start with the top file (and its top symbol):\n%s", name, budget, got)
			}
			if len(got) < len(prev) {
				t.Fatalf("%s budget %d: map shrank from %d to %d bytes", name, budget, len(prev), len(got))
			}
			prev = got
		}
		full := RepoMap(rs, 1<<30, count)
		want := 0
		for _, r := range rs {
			want += 1 + len(r.Symbols)
		}
		if n := strings.Count(full, "\n"); n != want {
			t.Errorf("%s: unlimited map has %d lines, want %d:\n%s", name, n, want, full)
		}
	}
	// A budget that holds two definitions holds the two most referenced,
	// then bare paths of other files in rank order.
	costly := func(s string) int { return strings.Count(s, "\n") + 9*strings.Count(s, "\n  L") }
	got := RepoMap(rs, 27, costly)
	want := "util.go:\n  L1: func ComputeChecksum()\nmodel.go:\n  L1: func NewModel()\nREADME.md\na.go\nb.go\nc.go\nd.go\n"
	if got != want {
		t.Errorf("budget of 27:\n%s\nwant\n%s", got, want)
	}
}

func TestRepoMapEdgeCases(t *testing.T) {
	if got := RepoMap(nil, 100, nil); got != "" {
		t.Errorf("RepoMap(nil) = %q", got)
	}
	rs := Rank(rankSyntheticRepo(), Options{})
	if got := RepoMap(rs, 0, nil); got != "" {
		t.Errorf("budget 0: %q", got)
	}
	if got := RepoMap(rs, 100, func(string) int { return 101 }); got != "" {
		t.Errorf("nothing fits: %q", got)
	}
	// Multi-line signatures and paths stay on their line; a symbol without
	// a signature shows its name; duplicate lines merge.
	rs = []Ranked{{Path: "a\nb.py", Score: 1, Symbols: []RankedSymbol{
		{Symbol: ingest.Symbol{Name: "f", StartLine: 3, Signature: "def f(a,\n      b)"}, Score: 0.5},
		{Symbol: ingest.Symbol{Name: "x", StartLine: 1}, Score: 0.3},
		{Symbol: ingest.Symbol{Name: "y", StartLine: 2, Signature: "var y, z int"}, Score: 0.1},
		{Symbol: ingest.Symbol{Name: "z", StartLine: 2, Signature: "var y, z int"}, Score: 0.1},
	}}}
	want := "a b.py:\n  L1: x\n  L2: var y, z int\n  L3: def f(a, b)\n"
	if got := RepoMap(rs, 100, nil); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func BenchmarkRepoMapNetHTTP(b *testing.B) {
	rs := Rank(netHTTPFiles(b), Options{})
	var out string
	for b.Loop() {
		out = RepoMap(rs, 4096, ingest.EstimateTokens)
	}
	b.ReportMetric(float64(ingest.EstimateTokens(out)), "tokens")
}
