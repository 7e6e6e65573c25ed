package engine

import (
	"context"
	"errors"
	"slices"
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
	TopK        int     // used with Temperature > 0: sample among the TopK likeliest; 0 = DefaultTopK, < 0 = all
	Seed        uint32
	Priority    Priority // who waits first when the engine is busy
	// Resume is the saved suffix of an earlier answer (see Keep): the
	// KV of its longest common start with Prompt is loaded instead of
	// decoded. It is used only if made on a prefix of the current length;
	// the caller makes sure the prefix's content is the same too.
	Resume *SeqState
	// Keep returns this question's suffix (prompt and answer) in
	// GenerateStats.State, so that a later question can continue it.
	Keep bool
}

// SeqState is the KV of a question's suffix: the tokens it holds after the
// prefix, without the prefix's cells.
type SeqState struct {
	PrefixLen int     // length of the prefix it was made on
	Tokens    []Token // prompt and answer tokens, in order
	KV        int     // how many of Tokens State holds (the answer's last token was sampled, never decoded)
	State     []byte  // llama.cpp's sequence state of those cells
}

// GenerateStats describes one answer.
type GenerateStats struct {
	PromptTokens    int           `json:"prompt_tokens"`    // prefix + question tokens the answer was conditioned on
	CachedTokens    int           `json:"cached_tokens"`    // of those, reused from sequence 0
	GeneratedTokens int           `json:"generated_tokens"` // sampled tokens
	ResumedTokens   int           `json:"resumed_tokens"`   // of CachedTokens, loaded from Resume
	StopReason      string        `json:"stop_reason"`      // "eog", "max_tokens", "context_full", "cancelled"
	State           *SeqState     `json:"-"`                // with Keep: the suffix's KV
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
	prefixLen := pos
	st.CachedTokens = pos
	st.PromptTokens = pos + len(req.Prompt)
	prompt := req.Prompt
	if n := e.resume(seq, pos, req); n > 0 {
		prompt = prompt[n:]
		pos += n
		st.CachedTokens += n
		st.ResumedTokens = n
	}
	var answer []Token // sampled tokens, eog excluded

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
	if err := e.decode(ctx, seq, pos, prompt, req.Priority, sample); err != nil {
		return st, err
	}
	pos += len(prompt)

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
		answer = append(answer, tok)
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
	if req.Keep {
		toks := append(slices.Clone(req.Prompt), answer...)
		kv := pos - prefixLen // the last sampled token is not in the KV
		if st.State, err = e.keep(seq, prefixLen, toks, kv); err != nil {
			return st, err
		}
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// resume loads the KV of req.Resume's longest common start with the prompt
// into seq (which holds the prefix of length prefixLen) and returns how
// many prompt tokens it covers. At least the prompt's last token is left
// to decode, for its logits. A state llama.cpp refuses is not used.
func (e *Engine) resume(seq llama.SeqId, prefixLen int, req GenerateRequest) int {
	r := req.Resume
	if r == nil || r.PrefixLen != prefixLen || r.KV <= 0 || r.KV > len(r.Tokens) {
		return 0
	}
	n := 0
	for n < r.KV && n < len(req.Prompt)-1 && r.Tokens[n] == req.Prompt[n] {
		n++
	}
	if n == 0 {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0
	}
	// Loading a sequence's state replaces all its cells: load the suffix,
	// cut it to the common start, then share the prefix's cells again.
	llama.MemorySeqRm(e.mem, seq, -1, -1)
	ok := llama.StateSeqSetData(e.lctx, r.State, seq) != 0
	if ok {
		maxPos, err := llama.MemorySeqPosMax(e.mem, seq)
		minPos, err2 := llama.MemorySeqPosMin(e.mem, seq)
		ok = err == nil && err2 == nil && int(minPos) == prefixLen && int(maxPos) == prefixLen+r.KV-1
	}
	if ok {
		_, err := llama.MemorySeqRm(e.mem, seq, llama.Pos(prefixLen+n), -1)
		ok = err == nil
	}
	if !ok {
		llama.MemorySeqRm(e.mem, seq, -1, -1)
		n = 0
	}
	if prefixLen > 0 {
		if err := llama.MemorySeqCp(e.mem, 0, seq, -1, -1); err != nil {
			llama.MemorySeqRm(e.mem, seq, -1, -1)
			return 0
		}
	}
	return n
}

// keep saves the KV of seq's suffix: the cells after the prefix, which
// hold the first kv of toks.
func (e *Engine) keep(seq llama.SeqId, prefixLen int, toks []Token, kv int) (*SeqState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	// Drop the prefix's cells from this sequence so its state holds only
	// the suffix; the sequence is freed right after anyway.
	if prefixLen > 0 {
		if _, err := llama.MemorySeqRm(e.mem, seq, 0, llama.Pos(prefixLen)); err != nil {
			return nil, err
		}
	}
	size := llama.StateSeqGetSize(e.lctx, seq)
	buf := make([]byte, size)
	n := llama.StateSeqGetData(e.lctx, buf, seq)
	if n == 0 && size > 0 {
		return nil, errors.New("llama.cpp returned no state for the question's sequence")
	}
	return &SeqState{PrefixLen: prefixLen, Tokens: toks, KV: kv, State: buf[:n]}, nil
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

// DefaultTopK is how many of the likeliest tokens sampling chooses among,
// llama.cpp's own default.
const DefaultTopK = 40

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
	// The top-k cut comes first: top-p sorts what it is given, and sorting
	// a whole vocabulary took 2.8 ms a token (of 10 ms) on the bench model.
	topK := req.TopK
	if topK == 0 {
		topK = DefaultTopK
	}
	if topK > 0 {
		llama.SamplerChainAdd(chain, llama.SamplerInitTopK(int32(topK)))
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
