package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"sync"
	"time"

	"lore/engine"
)

// llama speaks llama.cpp's server's native protocol: token arrays to
// /completion with cache_prompt and the repository's slot (id_slot), its
// timings (cache_n: tokens reused, prompt_n: tokens prefilled), and the
// slot saved and restored with /slots/{id}?action=save|restore on a
// server started with --slot-save-path.
type llama struct {
	e    *Engine
	slot int
	key  string // names the repository's save files on the server: lore-<key>-<snapshot>.bin

	mu sync.Mutex
	// saved is what the save file holds (nil: none made or found).
	saved     []engine.Token
	savedFile string // the save file holding saved
	// restored is set by a restore and cleared by the next request: a
	// restored slot still looks unused in /slots, and restoring it again
	// would read the whole save once more.
	restored   bool
	noSave     bool // the server has no --slot-save-path
	slotsShown bool // the server's /slots endpoint answers
}

// serverProps is the part of llama-server's /props lore reads.
type serverProps struct {
	TotalSlots int `json:"total_slots"`
	Defaults   struct {
		NCtx int `json:"n_ctx"`
	} `json:"default_generation_settings"`
	ModelPath     string `json:"model_path"`
	EndpointSlots bool   `json:"endpoint_slots"`
	BuildInfo     string `json:"build_info"`
}

// serverModels is /v1/models' metadata of the model llama-server runs.
type serverModels struct {
	Data []struct {
		ID   string `json:"id"`
		Meta *struct {
			NVocab    int    `json:"n_vocab"`
			NCtxTrain int    `json:"n_ctx_train"`
			NParams   uint64 `json:"n_params"`
		} `json:"meta"`
	} `json:"data"`
}

func openLlama(ctx context.Context, e *Engine) (*llama, error) {
	var props serverProps
	if err := e.getJSON(ctx, "/props", &props); err != nil {
		var se *ServerError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return nil, fmt.Errorf("the server at %s has no /props: it is no llama.cpp server (llama-server); for vLLM, SGLang or a hosted API set remote.protocol = \"completions\" or \"chat\"", e.cfg.URL)
		}
		return nil, err
	}
	if props.TotalSlots <= 0 || props.Defaults.NCtx <= 0 {
		return nil, fmt.Errorf("the server at %s answered /props without slots or a context size: it is no llama.cpp server (llama-server)?", e.cfg.URL)
	}
	if err := checkModel(ctx, e); err != nil {
		return nil, err
	}
	p := &llama{e: e, slot: e.cfg.Slot, slotsShown: props.EndpointSlots}
	if p.slot >= props.TotalSlots {
		return nil, fmt.Errorf("remote.slot %d does not exist: the server at %s has %d slots (0..%d; start it with --parallel N for more)", p.slot, e.cfg.URL, props.TotalSlots, props.TotalSlots-1)
	}
	if p.slot < 0 {
		h := fnv.New32a()
		h.Write([]byte(e.cfg.Key))
		p.slot = int(h.Sum32() % uint32(props.TotalSlots))
	}
	p.key = keyHash(e.cfg.Key)
	e.info.ContextSize = props.Defaults.NCtx
	if c := e.cfg.Local.ContextSize; c > 0 && c < e.info.ContextSize {
		e.info.ContextSize = c
	}
	if e.info.SlidingWindow > 0 {
		e.log.Warn("the model uses a sliding-window attention: llama-server must run with --swa-full, or it cannot reuse the cached prefix and prefills it for every question", "url", e.cfg.URL, "window", e.info.SlidingWindow)
	}
	e.log.Info("remote engine", "url", e.cfg.URL, "slot", p.slot, "slots", props.TotalSlots, "context", e.info.ContextSize, "server_model", props.ModelPath)
	return p, nil
}

// checkModel refuses a server that runs another model than the local GGUF
// file: its metadata (vocabulary size, training context) and how it
// tokenizes a probe must match, or lore's token arrays would mean other
// text there.
func checkModel(ctx context.Context, e *Engine) error {
	var models serverModels
	if err := e.getJSON(ctx, "/v1/models", &models); err != nil {
		return err
	}
	local := e.info
	if len(models.Data) > 0 && models.Data[0].Meta != nil {
		m := models.Data[0].Meta
		var diff []string
		if m.NVocab != local.VocabSize {
			diff = append(diff, fmt.Sprintf("a vocabulary of %d tokens, the local file %d", m.NVocab, local.VocabSize))
		}
		if local.TrainContext > 0 && m.NCtxTrain != local.TrainContext {
			diff = append(diff, fmt.Sprintf("a training context of %d, the local file %d", m.NCtxTrain, local.TrainContext))
		}
		if len(diff) > 0 {
			return fmt.Errorf("the server at %s runs another model (%s) than %s: start it with that GGUF file, or point model at a copy of the one it runs", e.cfg.URL, strings.Join(diff, "; "), local.Path)
		}
	}
	const probe = "func main() {\n\tfmt.Println(\"lore: ü 東京 🙂\") // probe\n}\n"
	var tok struct {
		Tokens []engine.Token `json:"tokens"`
	}
	if err := e.callJSON(ctx, http.MethodPost, "/tokenize", map[string]any{"content": probe, "add_special": false, "parse_special": false}, &tok); err != nil {
		return err
	}
	if want := e.vocab.Tokenize(probe); !slicesEqual(tok.Tokens, want) {
		return fmt.Errorf("the server at %s tokenizes text differently from %s (another vocabulary: another model): start it with that GGUF file, or point model at a copy of the one it runs", e.cfg.URL, local.Path)
	}
	return nil
}

// completionRequest is llama-server's /completion body.
type completionRequest struct {
	Prompt         []engine.Token `json:"prompt"`
	NPredict       int            `json:"n_predict"`
	CachePrompt    bool           `json:"cache_prompt"`
	IDSlot         int            `json:"id_slot"`
	Stream         bool           `json:"stream"`
	ReturnProgress bool           `json:"return_progress,omitempty"`
	Temperature    float32        `json:"temperature"`
	TopP           float32        `json:"top_p,omitempty"`
	TopK           int            `json:"top_k"`
	MinP           float32        `json:"min_p"` // 0: the in-process sampler has no min-p stage
	Seed           uint32         `json:"seed"`
	ReturnTokens   bool           `json:"return_tokens,omitempty"`
}

// completionChunk is one streamed event of /completion.
type completionChunk struct {
	Content         string `json:"content"`
	Stop            bool   `json:"stop"`
	StopType        string `json:"stop_type"`
	Truncated       bool   `json:"truncated"`
	TokensPredicted int    `json:"tokens_predicted"`
	Timings         *struct {
		CacheN  int `json:"cache_n"`
		PromptN int `json:"prompt_n"`
	} `json:"timings"`
	Progress *struct {
		Total     int `json:"total"`
		Cache     int `json:"cache"`
		Processed int `json:"processed"`
	} `json:"prompt_progress"`
}

// complete sends one /completion request and streams its events.
func (p *llama) complete(ctx context.Context, req completionRequest, onChunk func(*completionChunk) error) (*completionChunk, error) {
	req.CachePrompt, req.IDSlot, req.Stream = true, p.slot, true
	resp, err := p.e.do(ctx, http.MethodPost, "/completion", req)
	p.mu.Lock()
	p.restored = false
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var last *completionChunk
	err = readEvents(resp.Body, func(data []byte) (bool, error) {
		var c completionChunk
		if err := json.Unmarshal(data, &c); err != nil {
			return false, fmt.Errorf("reading the answer of %s: %w", p.e.cfg.URL, err)
		}
		if err := onChunk(&c); err != nil {
			return false, err
		}
		if c.Stop {
			last = &c
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("the llama-server at %s stopped answering mid-request (did it stop or crash? lore goes on once it is back): %w", p.e.cfg.URL, err)
	}
	return last, nil
}

// ensure restores the slot's save before a request when the server lost
// the slot since lore last used it (a restart: the slot has served no
// request). Without /slots (--no-slots) it cannot tell, and a lost slot
// is prefilled again.
func (p *llama) ensure(ctx context.Context, want []engine.Token) {
	p.mu.Lock()
	saved, file, restored, shown := p.saved, p.savedFile, p.restored, p.slotsShown
	p.mu.Unlock()
	if saved == nil || restored || !shown || commonLen(saved, want) == 0 {
		return
	}
	fresh, err := p.slotFresh(ctx)
	if err != nil {
		p.e.log.Warn("checking the server's slot failed", "url", p.e.cfg.URL, "err", err)
		return
	}
	if !fresh {
		return
	}
	if err := p.restore(ctx, file, len(saved)); err != nil {
		p.e.log.Warn("restoring the server's slot failed: prefilling it again", "url", p.e.cfg.URL, "slot", p.slot, "err", err)
		return
	}
	p.e.log.Info("the server had lost the slot: restored its save", "url", p.e.cfg.URL, "slot", p.slot, "tokens", len(saved))
}

// slotFresh reports whether the repository's slot has served no request
// since the server started (what a restart leaves).
func (p *llama) slotFresh(ctx context.Context) (bool, error) {
	var slots []map[string]any
	if err := p.e.getJSON(ctx, "/slots", &slots); err != nil {
		return false, err
	}
	for _, s := range slots {
		if id, ok := s["id"].(float64); ok && int(id) == p.slot {
			_, used := s["n_prompt_tokens"]
			return !used, nil
		}
	}
	return false, fmt.Errorf("the server lists no slot %d", p.slot)
}

func (p *llama) sync(ctx context.Context, tokens []engine.Token, progress engine.Progress) (engine.SyncStats, error) {
	start := time.Now()
	p.ensure(ctx, tokens)
	last, err := p.complete(ctx, completionRequest{Prompt: tokens, NPredict: 0, ReturnProgress: progress != nil}, func(c *completionChunk) error {
		if c.Progress != nil && progress != nil && c.Progress.Total > 0 {
			progress(c.Progress.Processed, c.Progress.Total)
		}
		return nil
	})
	if err != nil {
		return engine.SyncStats{}, err
	}
	st := engine.SyncStats{Elapsed: time.Since(start)}
	if last != nil && last.Timings != nil {
		st.Reused, st.Prefilled = last.Timings.CacheN, last.Timings.PromptN
	}
	return st, nil
}

func (p *llama) generate(ctx context.Context, prefix []engine.Token, req engine.GenerateRequest, emit engine.Emit) (engine.GenerateStats, error) {
	start := time.Now()
	prompt := make([]engine.Token, 0, len(prefix)+len(req.Prompt))
	prompt = append(append(prompt, prefix...), req.Prompt...)
	p.ensure(ctx, prompt)
	st := engine.GenerateStats{PromptTokens: len(prompt)}
	creq := completionRequest{Prompt: prompt, NPredict: req.MaxTokens, Temperature: req.Temperature, Seed: req.Seed}
	if req.Temperature > 0 {
		creq.TopP, creq.TopK = req.TopP, req.TopK
		if creq.TopP == 0 {
			creq.TopP = 0.95
		}
		if creq.TopK == 0 {
			creq.TopK = engine.DefaultTopK
		}
		if creq.TopK < 0 {
			creq.TopK = 0 // llama-server: 0 = all
		}
	}
	var emitErr error
	last, err := p.complete(ctx, creq, func(c *completionChunk) error {
		if c.Content == "" || emitErr != nil {
			return nil
		}
		if st.TTFT == 0 {
			st.TTFT = time.Since(start)
		}
		if err := emit(c.Content); err != nil {
			emitErr = err
			return err
		}
		return nil
	})
	st.Elapsed = time.Since(start)
	if emitErr != nil {
		st.StopReason = "cancelled"
		return st, emitErr
	}
	if err != nil {
		return st, err
	}
	if last == nil {
		return st, fmt.Errorf("the llama-server at %s ended the answer without its statistics", p.e.cfg.URL)
	}
	st.GeneratedTokens = last.TokensPredicted
	if last.Timings != nil {
		st.CachedTokens = last.Timings.CacheN
	}
	switch {
	case last.StopType == "eos":
		st.StopReason = "eog"
	case last.Truncated:
		st.StopReason = "context_full"
	default:
		st.StopReason = "max_tokens"
	}
	if miss := len(prefix) - st.CachedTokens; len(prefix) > 0 && miss > len(prefix)/2 && p.e.info.SlidingWindow > 0 {
		p.e.log.Warn("the server re-prefilled most of the prefix: the model uses a sliding window, so llama-server needs --swa-full to reuse it", "url", p.e.cfg.URL, "cached", st.CachedTokens, "prefix", len(prefix))
	}
	return st, nil
}

// slotState is what SaveState returns for a llama-server slot: the save
// file's name on the server and how many tokens it holds.
type slotState struct {
	Server string `json:"server"`
	File   string `json:"file"`
	Slot   int    `json:"slot"`
	Tokens int    `json:"tokens"`
}

type slotResult struct {
	NSaved    int `json:"n_saved"`
	NRestored int `json:"n_restored"`
}

func (p *llama) save(name string, prefix []engine.Token) ([]byte, error) {
	p.mu.Lock()
	noSave := p.noSave
	p.mu.Unlock()
	if noSave {
		return nil, nil
	}
	file := p.fileFor(name)
	ctx := context.Background()
	var res slotResult
	err := p.e.callJSON(ctx, http.MethodPost, fmt.Sprintf("/slots/%d?action=save", p.slot), map[string]string{"filename": file}, &res)
	var se *ServerError
	if errors.As(err, &se) && se.Status == http.StatusNotImplemented {
		p.mu.Lock()
		p.noSave = true
		p.mu.Unlock()
		p.e.log.Warn("the server saves no slots (no --slot-save-path): a server restart costs a full prefill", "url", p.e.cfg.URL)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The slot holds the prefix and whatever the last request added after
	// it (a question and its answer, the token a prefill sampled): lore
	// relies on the prefix, and the server on the tokens it saved with
	// the KV, so a stale tail is never taken for the prefix.
	if res.NSaved < len(prefix) {
		return nil, fmt.Errorf("the server saved %d tokens of slot %d, fewer than the prefix's %d: another client uses the slot (set remote.slot)", res.NSaved, p.slot, len(prefix))
	}
	p.mu.Lock()
	p.saved, p.savedFile = prefix, file
	p.mu.Unlock()
	return json.Marshal(slotState{Server: p.e.cfg.URL, File: file, Slot: p.slot, Tokens: len(prefix)})
}

// fileFor is the save file of the snapshot name (a branch's) on the server.
func (p *llama) fileFor(name string) string {
	return "lore-" + p.key + "-" + keyHash(name) + ".bin"
}

func (p *llama) load(state []byte, tokens []engine.Token) error {
	var s slotState
	if err := json.Unmarshal(state, &s); err != nil || s.File == "" {
		return errors.New("the snapshot is no reference to a llama-server slot save")
	}
	if !strings.HasPrefix(s.File, "lore-"+p.key+"-") {
		return fmt.Errorf("the snapshot refers to another repository's slot save %s", s.File)
	}
	if err := p.restore(context.Background(), s.File, len(tokens)); err != nil {
		return err
	}
	p.mu.Lock()
	p.saved, p.savedFile = tokens, s.File
	p.mu.Unlock()
	return nil
}

// restore loads the save file into the slot, which must then hold at
// least want tokens.
func (p *llama) restore(ctx context.Context, file string, want int) error {
	var res slotResult
	if err := p.e.callJSON(ctx, http.MethodPost, fmt.Sprintf("/slots/%d?action=restore", p.slot), map[string]string{"filename": file}, &res); err != nil {
		return err
	}
	if res.NRestored < want {
		return fmt.Errorf("the server's save %s holds %d tokens, fewer than the snapshot's %d", file, res.NRestored, want)
	}
	p.mu.Lock()
	p.restored = true
	p.mu.Unlock()
	return nil
}

func commonLen(a, b []engine.Token) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
