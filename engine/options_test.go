package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"lore/models/synth"
)

func TestKVTypeAndMoECPUExperts(t *testing.T) {
	needLib(t)
	cfg := tinyConfig()
	cfg.KVType = "q8_0"
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "flash attention") {
		t.Fatalf("q8_0 without flash attention: %v", err)
	}
	cfg.KVType = "q5_1"
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "f16, q8_0, q4_0") {
		t.Fatalf("unknown KV type: %v", err)
	}
	// Quantized KV rows need head sizes that are whole blocks of 32: the
	// tiny model's heads have 16 dimensions, the demo model's 32.
	demo := filepath.Join(t.TempDir(), "demo.gguf")
	if err := synth.WriteFile(demo, synth.Demo, synth.DefaultSeed); err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"q8_0", "q4_0"} {
		cfg := tinyConfig()
		cfg.ModelPath = demo
		cfg.KVType, cfg.FlashAttention, cfg.MoECPUExperts = kv, true, true
		e := openTiny(t, cfg)
		prefix := e.Tokenize(strings.Repeat("package main\n\nfunc main() {}\n", 10))
		if _, err := e.Sync(context.Background(), prefix, nil); err != nil {
			t.Fatalf("%s: %v", kv, err)
		}
		st, err := e.Generate(context.Background(), GenerateRequest{Prompt: e.Tokenize("\nQ: what?\nA:"), MaxTokens: 8}, func(string) error { return nil })
		if err != nil || st.GeneratedTokens == 0 {
			t.Fatalf("%s: generate %+v %v", kv, st, err)
		}
		if got := e.Settings().KVType; got != kv {
			t.Fatalf("Settings().KVType = %q", got)
		}
	}
}
