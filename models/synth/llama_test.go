package synth_test

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybridgroup/yzma/pkg/llama"

	"lore/internal/testenv"
	"lore/models/synth"
)

// These tests load the generated files in the real pinned llama.cpp.

var (
	llamaOnce sync.Once
	llamaErr  error
)

func needLlama(t *testing.T) {
	t.Helper()
	dir := testenv.LibDir(t)
	llamaOnce.Do(func() {
		if llamaErr = llama.Load(dir); llamaErr != nil {
			return
		}
		llama.LogSet(llama.LogSilent())
		llama.Init()
	})
	if llamaErr != nil {
		t.Fatalf("loading llama.cpp from %s: %v", dir, llamaErr)
	}
}

func loadModel(t *testing.T, s synth.Size, vocabOnly bool) (llama.Model, string) {
	t.Helper()
	needLlama(t)
	path := filepath.Join(t.TempDir(), string(s)+".gguf")
	start := time.Now()
	if err := synth.WriteFile(path, s, synth.DefaultSeed); err != nil {
		t.Fatal(err)
	}
	gen := time.Since(start)
	p := llama.ModelDefaultParams()
	p.NGpuLayers = 0
	if vocabOnly {
		p.VocabOnly = 1
	}
	m, err := llama.ModelLoadFromFile(path, p)
	if err != nil {
		t.Fatalf("llama.cpp rejected the %s model: %v", s, err)
	}
	t.Cleanup(func() { llama.ModelFree(m) })
	if fi, err := os.Stat(path); err == nil {
		t.Logf("%s: %d bytes, generated in %v", s, fi.Size(), gen.Round(time.Millisecond))
	}
	return m, path
}

const goSample = `package main

import (
	"fmt"
	"strings"
)

// Greet returns a greeting for name.
func Greet(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty name")
	}
	return "Hello, " + strings.TrimSpace(name) + "!", nil
}
`

func TestTinyInLlama(t *testing.T) {
	m, _ := loadModel(t, synth.Tiny, false)
	sp, _ := synth.SpecFor(synth.Tiny)

	for key, want := range map[string]string{
		"general.architecture":    "llama",
		"general.name":            "lore-synth-tiny",
		"llama.expert_count":      "4",
		"llama.expert_used_count": "2",
		"llama.context_length":    "262144",
	} {
		if got, ok := llama.ModelMetaValStr(m, key); !ok || got != want {
			t.Errorf("%s = %q (%v), want %q", key, got, ok, want)
		}
	}
	if got := llama.ModelNParams(m); got != uint64(sp.Params()) {
		t.Errorf("llama.cpp counts %d parameters, want %d", got, sp.Params())
	}
	v := llama.ModelGetVocab(m)
	if n := llama.VocabNTokens(v); n != int32(sp.VocabSize) {
		t.Fatalf("vocabulary has %d tokens, want %d", n, sp.VocabSize)
	}

	for _, text := range []string{
		goSample,
		"héllo 世界 🚀",
		" leading space, <s> and </s> and <unk> and <0x41>, trailing  \t\n",
		// Invalid UTF-8 round-trips as long as no space falls inside the
		// bytes that a bad lead byte claims: llama.cpp's SPM tokenizer cuts
		// symbols by the lead byte's length, so "\xff " would swallow the
		// escaped space '▁' into a byte-fallback symbol and come back as
		// "\xff▁". No NUL either: yzma passes the text as a C string and
		// aborts on one.
		"\x01\xffabc invalid utf-8 \xc3",
	} {
		toks := llama.Tokenize(v, text, true, false)
		if len(toks) < 2 || toks[0] != synth.BOSID {
			t.Fatalf("%q: tokens %v do not start with BOS", text, toks)
		}
		for _, tok := range toks[1:] {
			if tok < synth.FirstByte {
				t.Fatalf("%q: special token %d inside the text (%v)", text, tok, toks)
			}
		}
		if got := llama.Detokenize(v, toks, true, false); got != text {
			t.Errorf("round trip of %q gave %q", text, got)
		}
	}

	// A few tokens decode to finite logits that differ.
	cp := llama.ContextDefaultParams()
	cp.NCtx, cp.NBatch, cp.NUbatch, cp.NSeqMax = 256, 256, 256, 1
	ctx, err := llama.InitFromModel(m, cp)
	if err != nil {
		t.Fatal(err)
	}
	defer llama.Free(ctx)
	toks := llama.Tokenize(v, goSample, true, false)[:16]
	if rc, err := llama.Decode(ctx, llama.BatchGetOne(toks)); err != nil || rc != 0 {
		t.Fatalf("decode: rc %d, %v", rc, err)
	}
	logits, err := llama.GetLogitsIth(ctx, -1, sp.VocabSize)
	if err != nil || len(logits) != sp.VocabSize {
		t.Fatalf("logits: %d, %v", len(logits), err)
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for i, x := range logits {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("logit %d is %v", i, x)
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	if hi-lo < 1e-3 {
		t.Fatalf("logits are all about equal: [%v, %v]", lo, hi)
	}
	t.Logf("last-token logits in [%.3f, %.3f]", lo, hi)
}

// goCorpus returns up to limit bytes of Go source from the standard
// library's net package, in file name order.
func goCorpus(t *testing.T, limit int) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "src", "net", "*.go"))
	sort.Strings(files)
	var texts []string
	total := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || total >= limit {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
		total += len(b)
	}
	if total == 0 {
		t.Skip("no Go source found under GOROOT/src/net")
	}
	return texts
}

// bytesPerToken tokenizes each text on its own, as lore does with files,
// and checks that each one round-trips.
func bytesPerToken(t *testing.T, m llama.Model, texts []string) (float64, int, int) {
	t.Helper()
	v := llama.ModelGetVocab(m)
	nb, nt := 0, 0
	for _, text := range texts {
		toks := llama.Tokenize(v, text, false, false)
		if got := llama.Detokenize(v, toks, false, false); got != text {
			t.Fatalf("round trip failed for a %d-byte file", len(text))
		}
		nb += len(text)
		nt += len(toks)
	}
	return float64(nb) / float64(nt), nb, nt
}

func TestDemoVocabCompressesGo(t *testing.T) {
	m, _ := loadModel(t, synth.Demo, true)
	bpt, nb, nt := bytesPerToken(t, m, goCorpus(t, 256<<10))
	t.Logf("demo vocabulary: %d bytes of Go source (GOROOT/src/net) -> %d tokens: %.2f bytes/token", nb, nt, bpt)
	if bpt <= 2.5 {
		t.Fatalf("%.2f bytes/token, want > 2.5", bpt)
	}
}

// TestBenchModel generates the bench model, loads it with its weights and
// reports its size, parameters, bytes per token and prefill speed. It is
// slow and writes about 450 MB, so it only runs with LORE_SYNTH_BENCH=1.
func TestBenchModel(t *testing.T) {
	if ok, _ := strconv.ParseBool(os.Getenv("LORE_SYNTH_BENCH")); !ok {
		t.Skip("set LORE_SYNTH_BENCH=1 to generate and check the bench model")
	}
	m, _ := loadModel(t, synth.Bench, false)
	sp, _ := synth.SpecFor(synth.Bench)
	t.Logf("bench: %d parameters (llama.cpp: %d), expert_count %v", sp.Params(), llama.ModelNParams(m), func() string {
		s, _ := llama.ModelMetaValStr(m, "llama.expert_count")
		return s
	}())
	texts := goCorpus(t, 1<<30)
	bpt, nb, nt := bytesPerToken(t, m, texts)
	t.Logf("bench vocabulary: %d bytes of Go source (GOROOT/src/net) -> %d tokens: %.2f bytes/token", nb, nt, bpt)

	cp := llama.ContextDefaultParams()
	cp.NCtx, cp.NBatch, cp.NUbatch, cp.NSeqMax = 4096, 512, 512, 1
	ctx, err := llama.InitFromModel(m, cp)
	if err != nil {
		t.Fatal(err)
	}
	defer llama.Free(ctx)
	v := llama.ModelGetVocab(m)
	toks := llama.Tokenize(v, strings.Join(texts, "\n"), true, false)[:2048]
	start := time.Now()
	for i := 0; i < len(toks); i += 512 {
		if rc, err := llama.Decode(ctx, llama.BatchGetOne(toks[i:i+512])); err != nil || rc != 0 {
			t.Fatalf("decode: rc %d, %v", rc, err)
		}
	}
	el := time.Since(start)
	t.Logf("bench prefill: %d tokens in %v (%.0f tokens/s, %d threads)", len(toks), el.Round(time.Millisecond), float64(len(toks))/el.Seconds(), cp.NThreads)
}
