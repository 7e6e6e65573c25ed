package engine

import (
	"errors"
	"os"
	"strings"
	"testing"

	"lore/config"
	"lore/models"
)

// TestMemoryCheck forces a memory limit just under and just over what the
// generated tiny model needs at a 2048-token context with four sequences.
func TestMemoryCheck(t *testing.T) {
	st, err := os.Stat(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	info, err := models.Describe(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	kv := info.KVBytesPerTokenFor("f16")
	cfg := tinyConfig()
	cfg.CheckMemory = true
	cells := 2048 + 2*QuestionRoom(2048) // two question sequences beyond the first
	need := st.Size() + int64(cells)*kv + models.RuntimeReserve

	cfg.MemoryLimit = need - 1
	_, err = Open(cfg)
	var me *MemoryError
	if !errors.As(err, &me) {
		t.Fatalf("Open under the limit: %v, want a MemoryError", err)
	}
	// The largest context whose cells fit, rounded down to 1024: with 2048
	// not fitting by one byte, 1024 is below the minimum worth proposing.
	if me.Cells != cells || me.Weights != st.Size() || me.KVBytes != int64(cells)*kv || me.FitContext != 0 {
		t.Errorf("MemoryError %+v", me)
	}
	for _, want := range []string{"does not fit in memory", "memory_limit", "memory_check = false", "lore model ls --recommended", "q8_0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	// A larger configured context that does not fit, and a limit where 4096
	// tokens (with their question room) do: the error proposes 4096.
	big := cfg
	big.ContextSize = 65536
	big.MemoryLimit = st.Size() + int64(4096+2*QuestionRoom(4096))*kv + models.RuntimeReserve
	_, err = Open(big)
	if !errors.As(err, &me) || me.FitContext != 4096 || !strings.Contains(err.Error(), "set context = 4096") {
		t.Errorf("Open at 65536: %v", err)
	}

	// Over the limit, or with the check off, it loads.
	needLib(t)
	cfg.MemoryLimit = need
	e, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open at the limit: %v", err)
	}
	e.Close()
	big.CheckMemory = false
	big.ContextSize = 4096
	big.MemoryLimit = 1
	if e, err = Open(big); err != nil {
		t.Fatalf("Open with the check off: %v", err)
	}
	e.Close()
}

// TestMemoryCheckSettings: the check is on by default and takes the limit
// from memory_limit (LORE_MEMORY_LIMIT).
func TestMemoryCheckSettings(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv(config.EnvMemoryLimit, "3GiB")
	s, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := SettingsConfig(s)
	if !cfg.CheckMemory || cfg.MemoryLimit != 3<<30 {
		t.Errorf("SettingsConfig: check %v limit %d", cfg.CheckMemory, cfg.MemoryLimit)
	}
	if err := s.SetFlag("memory-check", "false"); err != nil || SettingsConfig(s).CheckMemory {
		t.Errorf("--memory-check=false: %v", err)
	}
}

// TestContextThatFits: the context proposed for a memory is the largest
// that the check accepts, rounded down to 1024, and what the check of the
// default configuration would accept.
func TestContextThatFits(t *testing.T) {
	const weights, kv = 10 << 30, 96 << 10
	cells := func(c int) int64 { return int64(c + spareCellsFor(Config{}, c)) }
	mem := weights + cells(50000)*kv + models.RuntimeReserve
	got := ContextThatFits(weights, kv, mem, 262144)
	if got != 49152 || weights+cells(got)*kv+models.RuntimeReserve > mem || weights+cells(got+1024)*kv+models.RuntimeReserve <= mem {
		t.Errorf("ContextThatFits = %d", got)
	}
	if got := ContextThatFits(weights, kv, 1<<50, 131072); got != 131072 {
		t.Errorf("all of it: %d", got)
	}
	if got := ContextThatFits(weights, kv, weights, 131072); got != 0 {
		t.Errorf("weights only: %d", got)
	}
}
