package ingest

import (
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
	src, err := os.ReadFile(filepath.Join("rank", "rank.go"))
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(len(src)) / float64(EstimateTokens(string(src))); r < 2.5 || r > 4 {
		t.Errorf("rank/rank.go: %.2f bytes per estimated token", r)
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

func BenchmarkEstimateTokens(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("rank", "rank.go"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		EstimateTokens(string(src))
	}
}
