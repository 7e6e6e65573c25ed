// Package engine runs the local model: llama.cpp in process (through yzma's
// purego bindings, no cgo), one long-lived context with a unified KV cache.
//
// Sequence 0 holds the repository prefix. A question copies that prefix into
// a sequence of its own (the cells are shared, not copied), decodes its own
// tokens after it and samples the answer; when it ends the sequence is freed.
// Sync moves sequence 0 to a new token array by cutting at the first token that
// differs and prefilling only the rest, so an edit costs about the tokens from
// the edited segment on.
package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"lore/config"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// Token is a model token id.
type Token = int32

// Defaults chosen for a 2-core laptop-class machine and long repository prefixes.
const (
	DefaultContextSize = 131072 // cap on the model's own context when none is configured
	DefaultBatchSize   = 512
	DefaultSequences   = 5 // sequence 0 (the prefix) and four concurrent questions
)

// Config selects the library, the model and the context settings.
type Config struct {
	LibDir         string // folder with libllama.so etc.; "" searches LibraryCandidates
	ModelPath      string // GGUF file
	ContextSize    int    // tokens; 0 = min(model's training context, DefaultContextSize)
	BatchSize      int    // tokens per decode call while prefilling; 0 = DefaultBatchSize
	Sequences      int    // sequences incl. the prefix; 0 = DefaultSequences
	Threads        int    // 0 = all cores
	GPULayers      int    // layers offloaded by a GPU build of llama.cpp
	FlashAttention bool   // off by default: with it, logits depend slightly on batch grouping
	KVType         string // KV cache element type: "f16" (default), "q8_0" or "q4_0" (quantized needs flash attention)
	MoECPUExperts  bool   // keep MoE expert tensors in CPU memory (llama.cpp's --cpu-moe) with a GPU build
	// SpareCells are KV cells beyond ContextSize, so that questions running
	// at once each have room after the prefix: the cells are shared by all
	// sequences, and the prefix may fill all but one question's room.
	// 0 = QuestionRoom(ContextSize) for each question sequence after the
	// first; negative = none.
	SpareCells int
	MaxQueue   int // questions that may wait for a free sequence; 0 = DefaultMaxQueue
	// CheckMemory refuses to load a model whose weights and KV cache do
	// not fit MemoryLimit (0: the available memory), with a MemoryError
	// that names the context that would fit. CPU only (GPULayers 0).
	CheckMemory bool
	MemoryLimit int64
}

// SettingsConfig is the engine part of the settings.
func SettingsConfig(s *config.Settings) Config {
	return Config{
		ModelPath:      s.Model,
		LibDir:         s.LlamaLib,
		ContextSize:    s.Context,
		Threads:        s.Threads,
		GPULayers:      s.GPULayers,
		FlashAttention: s.FlashAttention,
		KVType:         s.KVCacheType,
		MoECPUExperts:  s.MoECPUExperts,
		CheckMemory:    s.MemoryCheck,
		MemoryLimit:    s.MemoryLimit,
	}
}

// QuestionRoom is the part of a context of ctx tokens a question (with
// the files retrieved for it) and its answer need after the prefix: an
// eighth, at least 1024 and at most 16384 tokens.
func QuestionRoom(ctx int) int {
	return min(max(ctx/8, 1024), 16384)
}

// PackBudget is the pack's share of a context of ctx tokens: the rest is
// kept for the question and the answer, and one token for BOS. The daemon
// and lore bench localize both size the prefix with it.
func PackBudget(ctx int) int { return ctx - QuestionRoom(ctx) - 1 }

// RetrievalRoom is what one question may spend on files retrieved for it
// in a context of ctx tokens: half its room, or a quarter in a session,
// whose history takes the other half.
func RetrievalRoom(ctx int, session bool) int {
	if session {
		return QuestionRoom(ctx) / 4
	}
	return QuestionRoom(ctx) / 2
}

// moeExpertPattern matches the stacked expert tensors (a C string).
var moeExpertPattern = []byte("\\.ffn_(up|down|gate)_exps\x00")

// kvTypes are the KV cache element types Config.KVType accepts.
var kvTypes = map[string]llama.GGMLType{"f16": llama.GGMLTypeF16, "q8_0": llama.GGMLTypeQ8_0, "q4_0": llama.GGMLTypeQ4_0}

// ModelInfo describes the loaded model.
type ModelInfo struct {
	Name          string `json:"name"`
	Path          string `json:"path"`
	Fingerprint   string `json:"fingerprint"`
	Architecture  string `json:"architecture"`
	Params        uint64 `json:"params"`
	Layers        int    `json:"layers"`
	Experts       int    `json:"experts,omitempty"`
	ExpertsUsed   int    `json:"experts_used,omitempty"`
	VocabSize     int    `json:"vocab_size"`
	TrainContext  int    `json:"train_context"`
	ContextSize   int    `json:"context_size"`
	SlidingWindow int    `json:"sliding_window,omitempty"`
}

// Engine is one loaded model with one context. Its methods are safe for
// concurrent use; llama.cpp calls are serialised, one decode at a time.
type Engine struct {
	cfg     Config
	info    ModelInfo
	model   llama.Model
	lctx    llama.Context
	threads int32 // the threads decodes use now (setThreads)
	vocab   llama.Vocab
	mem     llama.Memory
	batch   llama.Batch
	nVoc    int
	bos     Token
	addBOS  bool

	mu     sync.Mutex // guards every llama call and the fields below
	prefix []Token    // tokens held by sequence 0, in order
	// prefixLen mirrors len(prefix) for readers that must not wait for e.mu.
	prefixLen atomic.Int64
	closed    bool

	slots       *slotQueue   // free question sequences
	steps       chan *step   // decode work for the batcher
	running     atomic.Int32 // questions holding a sequence
	rounds      atomic.Int64 // batcher decodes
	roundSteps  atomic.Int64 // question steps in them
	quit        chan struct{}
	batcherDone chan struct{}
	closeOnce   sync.Once
}

// noModelHint tells a user without a model what to run.
const noModelHint = "`lore model ls` lists the models you have (`lore model use NAME` picks one), " +
	"`lore model ls --recommended` the ones to download with `lore model pull NAME`; " +
	"or set model in the config (or LORE_MODEL) to a GGUF file; " +
	"`lore model synth` writes a random-weight test model that shows the mechanics"

// Open loads the library (once per process), the model and a context.
func Open(cfg Config) (*Engine, error) {
	if cfg.ModelPath == "" {
		return nil, errors.New("no model configured: " + noModelHint)
	}
	st, err := os.Stat(cfg.ModelPath)
	if err != nil {
		return nil, fmt.Errorf("model file %s: %w: %s", cfg.ModelPath, errors.Unwrap(err), noModelHint)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("model path %s is a directory, not a GGUF file", cfg.ModelPath)
	}
	if cfg.KVType == "" {
		cfg.KVType = "f16"
	}
	kvType, ok := kvTypes[cfg.KVType]
	if !ok {
		return nil, fmt.Errorf("KV cache type %q is not one of f16, q8_0, q4_0", cfg.KVType)
	}
	if cfg.KVType != "f16" && !cfg.FlashAttention {
		return nil, fmt.Errorf("a %s KV cache needs flash attention: turn it on, or use kv_cache_type = \"f16\"", cfg.KVType)
	}
	if err := checkMemory(cfg); err != nil {
		return nil, err
	}
	libDir, err := FindLibrary(cfg.LibDir)
	if err != nil {
		return nil, err
	}
	if err := loadLibrary(libDir); err != nil {
		return nil, err
	}
	cfg.LibDir = libDir
	fp, err := Fingerprint(cfg.ModelPath)
	if err != nil {
		return nil, err
	}

	mp := llama.ModelDefaultParams()
	mp.NGpuLayers = int32(cfg.GPULayers)
	var overrides []llama.TensorBuftOverride
	if cfg.MoECPUExperts {
		// The expert tensors are most of an MoE model's weights but only a
		// few are used per token: keeping them in CPU memory leaves the GPU
		// for attention and the KV cache.
		overrides = []llama.TensorBuftOverride{
			{Pattern: &moeExpertPattern[0], Type: llama.GGMLBackendCpuBufferType()},
			{}, // the list ends with a nil pattern
		}
		if err := mp.SetTensorBufOverrides(overrides); err != nil {
			return nil, err
		}
	}
	model, err := llama.ModelLoadFromFile(cfg.ModelPath, mp)
	runtime.KeepAlive(overrides)
	if err != nil || model == 0 {
		return nil, fmt.Errorf("llama.cpp could not load %s as a GGUF model (is it a complete, supported model file?): %v", cfg.ModelPath, err)
	}
	e := &Engine{cfg: cfg, model: model}
	e.vocab = llama.ModelGetVocab(model)
	e.nVoc = int(llama.VocabNTokens(e.vocab))
	e.bos = Token(llama.VocabBOS(e.vocab))
	e.addBOS = llama.VocabGetAddBOS(e.vocab)
	e.info = e.describe(fp)

	cfg.ContextSize = contextFor(cfg, e.info.TrainContext)
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Sequences <= 0 {
		cfg.Sequences = DefaultSequences
	}
	if cfg.Sequences < 2 {
		cfg.Sequences = 2
	}
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.NumCPU()
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	cfg.SpareCells = spareCellsFor(cfg, cfg.ContextSize)

	cp := llama.ContextDefaultParams()
	cp.NCtx = uint32(cfg.ContextSize + cfg.SpareCells)
	cp.NBatch = uint32(cfg.BatchSize)
	cp.NUbatch = uint32(cfg.BatchSize)
	cp.NSeqMax = uint32(cfg.Sequences)
	cp.NThreads = int32(cfg.Threads)
	cp.NThreadsBatch = int32(cfg.Threads)
	cp.KVUnified = 1 // otherwise each sequence gets only n_ctx / n_seq_max cells
	cp.NoPerf = 1
	if e.info.SlidingWindow > 0 {
		// Sliding-window layers drop old KV; cutting the prefix in the middle
		// then needs the full-size cache to stay exact.
		cp.SwaFull = 1
	}
	cp.TypeK, cp.TypeV = kvType, kvType
	if cfg.FlashAttention {
		cp.FlashAttentionType = llama.FlashAttentionTypeEnabled
	} else {
		cp.FlashAttentionType = llama.FlashAttentionTypeDisabled
	}
	lctx, err := llama.InitFromModel(model, cp)
	if err != nil || lctx == 0 {
		llama.ModelFree(model)
		return nil, fmt.Errorf("llama.cpp could not create a context of %d tokens for %s (too little memory? lower LORE_CTX): %v", cfg.ContextSize, cfg.ModelPath, err)
	}
	e.lctx = lctx
	e.cfg = cfg
	e.threads = int32(cfg.Threads)
	e.info.ContextSize = int(llama.NCtx(lctx)) - cfg.SpareCells
	if e.mem, err = llama.GetMemory(lctx); err != nil {
		e.Close()
		return nil, err
	}
	e.batch = llama.BatchInit(int32(cfg.BatchSize), 0, 1)
	var seqs []llama.SeqId
	for s := cfg.Sequences - 1; s >= 1; s-- {
		seqs = append(seqs, llama.SeqId(s))
	}
	e.slots = newSlotQueue(seqs, cfg.MaxQueue)
	e.steps = make(chan *step)
	e.quit = make(chan struct{})
	e.batcherDone = make(chan struct{})
	go e.batcher()
	return e, nil
}

func (e *Engine) describe(fp string) ModelInfo {
	return describeModel(e.model, e.cfg.ModelPath, fp, e.nVoc)
}

func describeModel(model llama.Model, path, fp string, nVoc int) ModelInfo {
	arch, _ := llama.ModelMetaValStr(model, "general.architecture")
	name, ok := llama.ModelMetaValStr(model, "general.name")
	if !ok || name == "" {
		name = filepath.Base(path)
	}
	info := ModelInfo{
		Name:          name,
		Path:          path,
		Fingerprint:   fp,
		Architecture:  arch,
		Params:        llama.ModelNParams(model),
		Layers:        int(llama.ModelNLayer(model)),
		VocabSize:     nVoc,
		TrainContext:  int(llama.ModelNCtxTrain(model)),
		SlidingWindow: int(llama.ModelNSWA(model)),
	}
	if v, ok := llama.ModelMetaValStr(model, arch+".expert_count"); ok {
		fmt.Sscan(v, &info.Experts)
	}
	if v, ok := llama.ModelMetaValStr(model, arch+".expert_used_count"); ok {
		fmt.Sscan(v, &info.ExpertsUsed)
	}
	return info
}

// Info describes the model and the context.
func (e *Engine) Info() ModelInfo { return e.info }

// Settings returns the effective configuration (defaults filled in).
func (e *Engine) Settings() Config { return e.cfg }

// Close frees the context and the model. It waits for running calls.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		if e.quit != nil {
			close(e.quit)
			<-e.batcherDone
		}
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	llama.BatchFree(e.batch)
	if e.lctx != 0 {
		llama.Free(e.lctx)
	}
	return llama.ModelFree(e.model)
}

// Fingerprint identifies a model file by its size and sampled content, so that
// a KV snapshot is never restored into a different model. Sampling (the first
// MiB and 64 KiB at 32 spread offsets) keeps it fast on multi-GB files.
func Fingerprint(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "size:%d;", st.Size())
	if _, err := io.Copy(h, io.LimitReader(f, 1<<20)); err != nil {
		return "", err
	}
	buf := make([]byte, 64<<10)
	for i := int64(1); i <= 32; i++ {
		off := st.Size() * i / 33
		n, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		h.Write(buf[:n])
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// ErrClosed is returned by calls on a closed engine.
var ErrClosed = errors.New("engine is closed")
