package engine

import (
	"context"
	"testing"
)

// BenchmarkPrefill measures Sync prefilling a prefix from an empty sequence 0
// on the tiny model (the mechanics, not a real model's speed).
func BenchmarkPrefill(b *testing.B) {
	cfg := tinyConfig()
	e := openTiny(b, cfg)
	toks := withBOS(e, e.Tokenize(sourceText(20, 60)))[:1500]
	b.ResetTimer()
	total := 0
	for b.Loop() {
		if err := e.Truncate(0); err != nil {
			b.Fatal(err)
		}
		st, err := e.Sync(context.Background(), toks, nil)
		if err != nil {
			b.Fatal(err)
		}
		total += st.Prefilled
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkRestore measures LoadState of a saved prefix, the alternative to
// prefilling it again.
func BenchmarkRestore(b *testing.B) {
	cfg := tinyConfig()
	e := openTiny(b, cfg)
	toks := withBOS(e, e.Tokenize(sourceText(21, 60)))[:1500]
	mustSync(b, e, toks)
	state, held, err := e.SaveState()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(state)))
	for b.Loop() {
		if err := e.LoadState(state, held); err != nil {
			b.Fatal(err)
		}
	}
}
