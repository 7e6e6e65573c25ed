package engine

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// GenerateRequest is one question: its tokens go after the prefix.
type GenerateRequest struct {
	Prompt      []Token
	MaxTokens   int     // answer length limit; 0 = 256
	Temperature float32 // 0 = greedy
	TopP        float32 // used with Temperature > 0; 0 = 0.95
	Seed        uint32
	Priority    Priority // who waits first when the engine is busy
}

// GenerateStats describes one answer.
type GenerateStats struct {
	PromptTokens    int           `json:"prompt_tokens"`    // prefix + question tokens the answer was conditioned on
	CachedTokens    int           `json:"cached_tokens"`    // of those, reused from sequence 0
	GeneratedTokens int           `json:"generated_tokens"` // sampled tokens
	StopReason      string        `json:"stop_reason"`      // "eog", "max_tokens", "context_full", "cancelled"
	Queued          time.Duration `json:"-"`                // waiting for a free sequence
	TTFT            time.Duration `json:"-"`                // from the call to the first token
	Elapsed         time.Duration `json:"-"`
}

// Emit receives answer text. Pieces are whole UTF-8 characters even when a
// character spans tokens. Returning an error stops the generation.
type Emit func(text string) error

// Generate answers req on top of the current prefix, streaming text to emit.
// It waits for a free sequence, copies the prefix into it (shared cells),
// decodes the question and samples until end-of-generation, the token limit,
// a full context or cancellation; the sequence is freed in every case.
func (e *Engine) Generate(ctx context.Context, req GenerateRequest, emit Emit) (GenerateStats, error) {
	start := time.Now()
	st := GenerateStats{}
	if len(req.Prompt) == 0 {
		return st, errors.New("empty prompt")
	}
	if req.MaxTokens <= 0 {
		req.MaxTokens = 256
	}
	seq, err := e.acquire(ctx, req.Priority)
	if err != nil {
		return st, err
	}
	defer e.release(seq)
	st.Queued = time.Since(start)

	smpl := newSampler(req)
	defer llama.SamplerFree(smpl)

	pos, err := e.fork(seq)
	if err != nil {
		return st, err
	}
	st.CachedTokens = pos
	st.PromptTokens = pos + len(req.Prompt)

	// Sampling reads the logits of the batch that decoded this question's
	// last token, so the batcher calls it before the next decode. The piece
	// is read then too: a concurrent Close frees the vocabulary.
	var tok Token
	var eog bool
	var piece []byte
	sample := func(idx int32) {
		tok = Token(llama.SamplerSample(smpl, e.lctx, idx))
		llama.SamplerAccept(smpl, llama.Token(tok))
		eog = llama.VocabIsEOG(e.vocab, llama.Token(tok))
		if !eog {
			piece = e.Piece(tok)
		}
	}
	if err := e.decode(ctx, seq, pos, req.Prompt, req.Priority, sample); err != nil {
		return st, err
	}
	pos += len(req.Prompt)

	var pending []byte
	flush := func(final bool) error {
		text, rest := completeUTF8(pending, final)
		pending = rest
		if text == "" {
			return nil
		}
		if st.TTFT == 0 {
			st.TTFT = time.Since(start)
		}
		return emit(text)
	}
	for {
		if eog {
			st.StopReason = "eog"
			break
		}
		st.GeneratedTokens++
		pending = append(pending, piece...)
		if err := flush(false); err != nil {
			st.StopReason = "cancelled"
			return st, err
		}
		if st.GeneratedTokens >= req.MaxTokens {
			st.StopReason = "max_tokens"
			break
		}
		if pos+1 >= e.info.ContextSize {
			st.StopReason = "context_full"
			break
		}
		if err := ctx.Err(); err != nil {
			st.StopReason = "cancelled"
			st.Elapsed = time.Since(start)
			return st, err
		}
		if err := e.decode(ctx, seq, pos, []Token{tok}, req.Priority, sample); err != nil {
			return st, err
		}
		pos++
	}
	if err := flush(true); err != nil {
		return st, err
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// PromptLogits decodes prompt after the prefix in a scratch sequence and
// returns the logits of its last token. It is how exactness is checked: the
// same tokens must give the same logits with and without a cached prefix.
func (e *Engine) PromptLogits(ctx context.Context, prompt []Token) ([]float32, error) {
	if len(prompt) == 0 {
		return nil, errors.New("empty prompt")
	}
	seq, err := e.acquire(ctx, PriorityInteractive)
	if err != nil {
		return nil, err
	}
	defer e.release(seq)
	pos, err := e.fork(seq)
	if err != nil {
		return nil, err
	}
	var logits []float32
	read := func(idx int32) {
		if l, _ := llama.GetLogitsIth(e.lctx, idx, e.nVoc); l != nil {
			logits = append([]float32(nil), l...)
		}
	}
	if err := e.decode(ctx, seq, pos, prompt, PriorityInteractive, read); err != nil {
		return nil, err
	}
	if logits == nil {
		return nil, errors.New("llama.cpp returned no logits")
	}
	return logits, nil
}

// fork makes seq share the prefix's cells and returns the prefix length.
func (e *Engine) fork(seq llama.SeqId) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, ErrClosed
	}
	pos := len(e.prefix)
	if pos > 0 {
		if err := llama.MemorySeqCp(e.mem, 0, seq, -1, -1); err != nil {
			return 0, err
		}
	}
	return pos, nil
}

// acquire waits for a free question sequence; the batcher counts it as
// running until release.
func (e *Engine) acquire(ctx context.Context, prio Priority) (llama.SeqId, error) {
	s, err := e.slots.acquire(ctx, prio)
	if err == nil {
		e.running.Add(1)
	}
	return s, err
}

// release frees the sequence's cells (cells shared with the prefix stay).
func (e *Engine) release(seq llama.SeqId) {
	e.mu.Lock()
	if !e.closed {
		llama.MemorySeqRm(e.mem, seq, -1, -1)
	}
	e.mu.Unlock()
	e.running.Add(-1)
	e.slots.release(seq)
}

// Queue reports the question sequences in use and the questions waiting
// for one.
func (e *Engine) Queue() (running, waiting int) {
	_, waiting = e.slots.counts()
	return int(e.running.Load()), waiting
}

func newSampler(req GenerateRequest) llama.Sampler {
	chain := llama.SamplerChainInit(llama.SamplerChainDefaultParams())
	if req.Temperature <= 0 {
		llama.SamplerChainAdd(chain, llama.SamplerInitGreedy())
		return chain
	}
	topP := req.TopP
	if topP <= 0 || topP > 1 {
		topP = 0.95
	}
	llama.SamplerChainAdd(chain, llama.SamplerInitTopP(topP, 1))
	llama.SamplerChainAdd(chain, llama.SamplerInitTemp(req.Temperature))
	llama.SamplerChainAdd(chain, llama.SamplerInitDist(req.Seed))
	return chain
}

// completeUTF8 splits b into text made of whole characters and a tail that may
// still be completed by the next token. Bytes that can never form a valid
// character become U+FFFD; with final, an incomplete tail does too.
func completeUTF8(b []byte, final bool) (string, []byte) {
	var out []byte
	i := 0
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			if !final && !utf8.FullRune(b[i:]) {
				break // an incomplete character: wait for more bytes
			}
			out = append(out, "\uFFFD"...)
			i++
			continue
		}
		out = append(out, b[i:i+size]...)
		i += size
	}
	return string(out), append([]byte(nil), b[i:]...)
}
