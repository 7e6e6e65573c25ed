package engine

import (
	"fmt"
	"sort"

	"lore/internal/bytesize"
	"lore/models"
)

// MemoryError is a model whose weights and KV cache do not fit in memory.
// It says what does fit.
type MemoryError struct {
	Model        string
	Weights      int64 // bytes of the GGUF file (memory-mapped)
	KVBytes      int64 // bytes of the KV cache for Cells
	Context      int   // the configured context, tokens
	Cells        int   // KV cells: the context and the room of concurrent questions
	KVType       string
	Available    int64
	AvailableSrc string // "memory_limit" or "available memory (MemAvailable)"
	// FitContext is the largest context that fits (0: not even a minimal one).
	FitContext int
}

func (e *MemoryError) Error() string {
	need := e.Weights + e.KVBytes + models.RuntimeReserve
	msg := fmt.Sprintf("%s does not fit in memory: it needs about %s (weights %s, KV cache %s for a context of %d tokens and %d cells for concurrent questions at %s, a %s reserve) but the %s is %s. ",
		e.Model, bytesize.Format(need), bytesize.Format(e.Weights), bytesize.Format(e.KVBytes), e.Context, e.Cells-e.Context, e.KVType,
		bytesize.Format(models.RuntimeReserve), e.AvailableSrc, bytesize.Format(e.Available))
	if e.FitContext > 0 {
		msg += fmt.Sprintf("A context of %d tokens fits: set context = %d in the config (or --ctx %d, LORE_CTX=%d)", e.FitContext, e.FitContext, e.FitContext, e.FitContext)
	} else {
		msg += "Not even a small context fits: free memory, or use a smaller model (lore model ls --recommended)"
	}
	if e.KVType == "f16" {
		msg += ", or halve the KV cache with kv_cache_type = \"q8_0\" and flash_attention = true"
	}
	return msg + "; memory_limit sets the memory lore may use, memory_check = false (--memory-check=false) loads anyway"
}

// minFitContext is the smallest context worth proposing: a question's room
// (at least 1024 tokens) and as much again for the pack.
const minFitContext = 2048

// checkMemory refuses, before anything is loaded, a model whose weights
// and KV cache (for every cell the context will hold) and
// models.RuntimeReserve exceed cfg.MemoryLimit or, when that is 0, the
// available memory. A CPU check: with layers offloaded to a GPU the weights
// and cache live in its memory, which this does not measure. A header that
// cannot be read is left to llama.cpp to report.
func checkMemory(cfg Config) error {
	if !cfg.CheckMemory || cfg.GPULayers > 0 {
		return nil
	}
	info, err := models.Describe(cfg.ModelPath)
	if err != nil || info.Err != "" {
		return nil
	}
	kv := info.KVBytesPerTokenFor(cfg.KVType)
	if kv <= 0 {
		return nil
	}
	avail, src := cfg.MemoryLimit, "memory_limit"
	if avail <= 0 {
		if avail, err = models.AvailableMemory(); err != nil {
			return err
		}
		src = "available memory (MemAvailable)"
	}
	ctx := contextFor(cfg, info.ContextLength)
	cells := ctx + spareCellsFor(cfg, ctx)
	if info.Size+int64(cells)*kv+models.RuntimeReserve <= avail {
		return nil
	}
	fit := fitContext(cfg, info.Size, kv, avail, ctx)
	return &MemoryError{Model: cfg.ModelPath, Weights: info.Size, KVBytes: int64(cells) * kv, Context: ctx, Cells: cells,
		KVType: cfg.KVType, Available: avail, AvailableSrc: src, FitContext: fit}
}

// ContextThatFits is the largest context, in tokens, that Open with the
// default sequences would accept in memory bytes (see checkMemory): weights
// bytes, kvPerToken bytes for every cell of the context and of the room of
// the concurrent questions, and models.RuntimeReserve; at most maxContext.
// It is rounded down to a multiple of 1024, and 0 when not even a minimal
// context (2048 tokens) fits.
func ContextThatFits(weights, kvPerToken, memory int64, maxContext int) int {
	return fitContext(Config{}, weights, kvPerToken, memory, maxContext)
}

func fitContext(cfg Config, weights, kv, avail int64, maxContext int) int {
	if kv <= 0 || maxContext <= 0 {
		return 0
	}
	need := func(c int) int64 { return weights + int64(c+spareCellsFor(cfg, c))*kv + models.RuntimeReserve }
	fit := sort.Search(maxContext+1, func(c int) bool { return need(c) > avail }) - 1
	if fit == maxContext {
		return fit
	}
	if fit < minFitContext {
		return 0
	}
	return fit &^ 1023 // a round number to type
}

// contextFor is the context Open uses for a model trained for train tokens.
func contextFor(cfg Config, train int) int {
	if cfg.ContextSize > 0 {
		return cfg.ContextSize
	}
	if c := min(train, DefaultContextSize); c > 0 {
		return c
	}
	return DefaultContextSize
}

// spareCellsFor is the KV cells Open adds to a context of ctx tokens for
// the questions running at once (see Config.SpareCells).
func spareCellsFor(cfg Config, ctx int) int {
	seqs := cfg.Sequences
	if seqs <= 0 {
		seqs = DefaultSequences
	}
	seqs = max(seqs, 2)
	spare := cfg.SpareCells
	if spare == 0 {
		spare = (seqs - 2) * QuestionRoom(ctx)
	}
	return max(spare, 0)
}
