package ingest

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lore/engine"
	"lore/internal/testenv"
	"lore/models/synth"
)

func TestRepoMapFormat(t *testing.T) {
	rs := Rank(rankSyntheticRepo(), RankOptions{})
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
	rs := Rank(files, RankOptions{})
	counters := map[string]func(string) int{
		"estimate": EstimateTokens,
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
	rs := Rank(rankSyntheticRepo(), RankOptions{})
	if got := RepoMap(rs, 0, nil); got != "" {
		t.Errorf("budget 0: %q", got)
	}
	if got := RepoMap(rs, 100, func(string) int { return 101 }); got != "" {
		t.Errorf("nothing fits: %q", got)
	}
	// Multi-line signatures and paths stay on their line; a symbol without
	// a signature shows its name; duplicate lines merge.
	rs = []Ranked{{Path: "a\nb.py", Score: 1, Symbols: []RankedSymbol{
		{Symbol: Symbol{Name: "f", StartLine: 3, Signature: "def f(a,\n      b)"}, Score: 0.5},
		{Symbol: Symbol{Name: "x", StartLine: 1}, Score: 0.3},
		{Symbol: Symbol{Name: "y", StartLine: 2, Signature: "var y, z int"}, Score: 0.1},
		{Symbol: Symbol{Name: "z", StartLine: 2, Signature: "var y, z int"}, Score: 0.1},
	}}}
	want := "a b.py:\n  L1: x\n  L2: var y, z int\n  L3: def f(a, b)\n"
	if got := RepoMap(rs, 100, nil); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestEstimateTokens(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{" ", 1},
		{"x", 1},
		{"func", 1},
		{"ServeHTTP", 2},
		{"\t\treturn nil, err\n", 5},
	} {
		if got := EstimateTokens(c.s); got != c.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", c.s, got, c.want)
		}
	}
	// Roughly 3 bytes per token on Go source.
	src, err := os.ReadFile("rank.go")
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(len(src)) / float64(EstimateTokens(string(src))); r < 2.5 || r > 4 {
		t.Errorf("rank.go: %.2f bytes per estimated token", r)
	}
}

// TestEstimateTokensCalibration measures EstimateTokens against the real
// tokenizer of the generated demo model (a 32k vocabulary derived from
// cl100k) on the Go files of $(go env GOROOT)/src/net. It needs the
// llama.cpp libraries ($LORE_LLAMA_LIB or ../third_party/llama).
func TestEstimateTokensCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("tokenizes a few MB with llama.cpp")
	}
	lib := testenv.LibDir(t)
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "src", "net")
	model := filepath.Join(t.TempDir(), "demo.gguf")
	if err := synth.WriteFile(model, synth.Demo, synth.DefaultSeed); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(engine.Config{ModelPath: model, LibDir: lib, ContextSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	var n, trueSum, estSum int
	var absErr, relErr, relBias, relQuarter, relBytes float64
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		real := len(e.Tokenize(string(b)))
		if real == 0 {
			return nil
		}
		est := EstimateTokens(string(b))
		n++
		trueSum += real
		estSum += est
		absErr += math.Abs(float64(est - real))
		relErr += math.Abs(float64(est-real)) / float64(real)
		relBias += float64(est-real) / float64(real)
		relQuarter += math.Abs(float64(len(b))/4-float64(real)) / float64(real)
		relBytes += math.Abs(float64(len(b))/3.2-float64(real)) / float64(real)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Skipf("only %d Go files under %s", n, root)
	}
	mre := relErr / float64(n)
	t.Logf("%d files, %d tokens (estimated %d): mean absolute error %.1f tokens per file, %.1f%% of the true count (bias %+.1f%%); len/3.2: %.1f%%, len/4: %.1f%%",
		n, trueSum, estSum, absErr/float64(n), 100*mre, 100*relBias/float64(n), 100*relBytes/float64(n), 100*relQuarter/float64(n))
	if mre > 0.08 {
		t.Errorf("mean absolute error %.1f%% of the true count, want at most 8%%", 100*mre)
	}
	if total := float64(estSum-trueSum) / float64(trueSum); math.Abs(total) > 0.05 {
		t.Errorf("total estimate off by %+.1f%%, want within 5%%", 100*total)
	}
}

func BenchmarkRepoMapNetHTTP(b *testing.B) {
	rs := Rank(netHTTPFiles(b), RankOptions{})
	var out string
	for b.Loop() {
		out = RepoMap(rs, 4096, EstimateTokens)
	}
	b.ReportMetric(float64(EstimateTokens(out)), "tokens")
}

func BenchmarkEstimateTokens(b *testing.B) {
	src, err := os.ReadFile("rank.go")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		EstimateTokens(string(src))
	}
}
