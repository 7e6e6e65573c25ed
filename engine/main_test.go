package engine

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lore/config"
	"lore/internal/testenv"
	"lore/models/synth"
)

// These tests drive the real pinned llama.cpp on the generated tiny MoE model
// (no fakes). The libraries are process-global, so every test uses the same
// folder: $LORE_LLAMA_LIB or ../third_party/llama.

var (
	tinyModel string // generated once by TestMain
	testLib   string // absolute library folder, "" when absent
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lore-engine-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	tinyModel = filepath.Join(dir, "tiny.gguf")
	if err := synth.WriteFile(tinyModel, synth.Tiny, synth.DefaultSeed); err != nil {
		fmt.Fprintln(os.Stderr, "generating the tiny model:", err)
		return 1
	}
	if lib, ok := testenv.LlamaLib(); ok && len(missingLibs(lib)) == 0 {
		testLib = lib
	}
	return m.Run()
}

// needLib stops the test through testenv.Unavailable when the llama.cpp
// libraries are not installed.
func needLib(t testing.TB) {
	t.Helper()
	if testLib == "" {
		testenv.Unavailable(t, "llama.cpp libraries not found (in $%s or third_party/llama): run `make deps`", config.EnvLlamaLib)
	}
}

// tinyConfig is the configuration every test starts from: a small context so
// that the KV cache and compute buffers stay small, flash attention off.
func tinyConfig() Config {
	return Config{
		LibDir:      testLib,
		ModelPath:   tinyModel,
		ContextSize: 2048,
		BatchSize:   512,
		Sequences:   4,
	}
}

// openTiny opens an engine on the tiny model, closed when the test ends.
func openTiny(t testing.TB, cfg Config) *Engine {
	t.Helper()
	needLib(t)
	e, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// sourceText is deterministic code-like text of about n lines, with some
// non-ASCII characters so that byte-fallback tokens occur.
func sourceText(seed, lines int) string {
	var b strings.Builder
	words := []string{"func", "return", "engine", "prefix", "token", "cache", "naïve", "café", "日本語", "✓", "λ", "for", "range", "if", "err", "nil"}
	x := uint32(seed*2654435761 + 1)
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "// line %d of file %d:", i, seed)
		for j := 0; j < 6; j++ {
			x = x*1664525 + 1013904223
			b.WriteString(" ")
			b.WriteString(words[int(x>>16)%len(words)])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// withBOS prepends the model's BOS token when it wants one, as a pack does.
func withBOS(e *Engine, toks []Token) []Token {
	if bos, ok := e.BOS(); ok {
		return append([]Token{bos}, toks...)
	}
	return toks
}

func mustSync(t testing.TB, e *Engine, toks []Token) SyncStats {
	t.Helper()
	st, err := e.Sync(context.Background(), toks, nil)
	if err != nil {
		t.Fatalf("Sync(%d tokens): %v", len(toks), err)
	}
	return st
}

func mustLogits(t testing.TB, e *Engine, prompt []Token) []float32 {
	t.Helper()
	l, err := e.PromptLogits(context.Background(), prompt)
	if err != nil {
		t.Fatalf("PromptLogits(%d tokens): %v", len(prompt), err)
	}
	if len(l) != e.Info().VocabSize {
		t.Fatalf("PromptLogits returned %d logits, want the vocabulary size %d", len(l), e.Info().VocabSize)
	}
	return l
}

// bitDiff compares two logit vectors bit for bit. It returns the number of
// entries whose float32 bits differ and the largest absolute difference.
func bitDiff(a, b []float32) (n int, maxAbs float64) {
	if len(a) != len(b) {
		return max(len(a), len(b)), math.Inf(1)
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			n++
			maxAbs = max(maxAbs, math.Abs(float64(a[i])-float64(b[i])))
		}
	}
	return n, maxAbs
}

// requireBitEqual fails unless got and want are equal to the bit.
func requireBitEqual(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if n, d := bitDiff(got, want); n != 0 {
		t.Fatalf("%s: %d of %d logits differ in their bits (max |diff| %g)", what, n, len(want), d)
	}
}
