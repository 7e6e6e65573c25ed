package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// PrefixLen is the number of tokens held by sequence 0. It does not wait for
// a running decode, so status queries stay instant during a long prefill.
func (e *Engine) PrefixLen() int { return int(e.prefixLen.Load()) }

func (e *Engine) setPrefix(p []Token) {
	e.prefix = p
	e.prefixLen.Store(int64(len(p)))
}

// Prefix returns a copy of the tokens held by sequence 0.
func (e *Engine) Prefix() []Token {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Token(nil), e.prefix...)
}

// Holds reports whether sequence 0 holds exactly tokens, without copying them.
func (e *Engine) Holds(tokens []Token) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Equal(e.prefix, tokens)
}

// SyncStats tells what a Sync reused and computed.
type SyncStats struct {
	Reused    int           // tokens of sequence 0 kept
	Prefilled int           // tokens decoded
	Elapsed   time.Duration // wall time
}

// Progress reports prefill progress: done of total tokens of the target.
type Progress func(done, total int)

// Sync makes sequence 0 hold exactly tokens: it keeps the common prefix,
// removes the rest and prefills what is missing in batches, calling progress
// after each. Cancelling ctx stops between batches and leaves a valid, shorter
// prefix.
func (e *Engine) Sync(ctx context.Context, tokens []Token, progress Progress) (SyncStats, error) {
	start := time.Now()
	var st SyncStats
	if max := e.info.ContextSize - 1; len(tokens) > max {
		return st, fmt.Errorf("prefix of %d tokens does not fit the context of %d", len(tokens), e.info.ContextSize)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return st, ErrClosed
	}
	common := 0
	for common < len(e.prefix) && common < len(tokens) && e.prefix[common] == tokens[common] {
		common++
	}
	if err := e.truncateLocked(common); err != nil {
		e.mu.Unlock()
		return st, err
	}
	st.Reused = len(e.prefix)
	e.mu.Unlock()

	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return st, ErrClosed
		}
		pos := len(e.prefix)
		if pos >= len(tokens) {
			e.mu.Unlock()
			break
		}
		if err := ctx.Err(); err != nil {
			e.mu.Unlock()
			return st, err
		}
		end := min(pos+e.cfg.BatchSize, len(tokens))
		err := e.decodeLocked(tokens[pos:end], pos, 0, false)
		if err == nil {
			e.setPrefix(append(e.prefix, tokens[pos:end]...))
			st.Prefilled += end - pos
		}
		e.mu.Unlock()
		if err != nil {
			return st, err
		}
		if progress != nil {
			progress(end, len(tokens))
		}
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// Truncate keeps only the first n tokens of sequence 0.
func (e *Engine) Truncate(n int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	return e.truncateLocked(n)
}

func (e *Engine) truncateLocked(n int) error {
	if n >= len(e.prefix) {
		return nil
	}
	ok, err := llama.MemorySeqRm(e.mem, 0, llama.Pos(n), -1)
	if err != nil {
		return err
	}
	if !ok {
		// The memory cannot cut this sequence in the middle (a recurrent
		// state, say): start it over, which is slow but exact.
		if _, err := llama.MemorySeqRm(e.mem, 0, -1, -1); err != nil {
			return err
		}
		n = 0
	}
	e.setPrefix(e.prefix[:n])
	return nil
}

// decodeLocked decodes toks at positions pos.. into seq, in one call; with
// lastLogits the last token's logits are computed.
func (e *Engine) decodeLocked(toks []Token, pos int, seq llama.SeqId, lastLogits bool) error {
	e.batch.Clear()
	ids := []llama.SeqId{seq}
	for i, t := range toks {
		if err := e.batch.Add(llama.Token(t), llama.Pos(pos+i), ids, lastLogits && i == len(toks)-1); err != nil {
			return err
		}
	}
	e.setThreads(PriorityInteractive)
	return e.decodeBatch(int32(len(toks)))
}

// decodeBatch decodes the n tokens of e.batch.
func (e *Engine) decodeBatch(n int32) error {
	rc, err := llama.Decode(e.lctx, e.batch)
	if err != nil {
		return err
	}
	switch {
	case rc == 0:
		return nil
	case rc == 1:
		return fmt.Errorf("llama.cpp found no KV cache slot for %d more tokens: the context of %d tokens is full (fewer questions at once, or a larger context)", n, e.info.ContextSize)
	case rc == 2:
		return errors.New("llama.cpp aborted the decode")
	default:
		return fmt.Errorf("llama.cpp decode failed with code %d", rc)
	}
}

// SaveStateAs is SaveState: the state is returned, so the name is the
// caller's to keep.
func (e *Engine) SaveStateAs(string) ([]byte, []Token, error) { return e.SaveState() }

// SaveState returns the KV state of sequence 0 and the tokens it holds.
func (e *Engine) SaveState() ([]byte, []Token, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, nil, ErrClosed
	}
	size := llama.StateSeqGetSize(e.lctx, 0)
	buf := make([]byte, size)
	n := llama.StateSeqGetData(e.lctx, buf, 0)
	if n == 0 && size > 0 {
		return nil, nil, errors.New("llama.cpp returned no state for sequence 0")
	}
	return buf[:n], append([]Token(nil), e.prefix...), nil
}

// LoadState replaces sequence 0 with a saved state that holds tokens. A state
// too long for the context is refused before anything changes; any other
// failure leaves sequence 0 empty, never half-restored.
func (e *Engine) LoadState(state []byte, tokens []Token) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if len(tokens) > e.info.ContextSize-1 {
		return fmt.Errorf("snapshot holds %d tokens, more than the context of %d", len(tokens), e.info.ContextSize)
	}
	if _, err := llama.MemorySeqRm(e.mem, 0, -1, -1); err != nil {
		return err
	}
	e.setPrefix(nil)
	if n := llama.StateSeqSetData(e.lctx, state, 0); n == 0 {
		return errors.New("llama.cpp rejected the saved state (different model or context settings?)")
	}
	maxPos, err := llama.MemorySeqPosMax(e.mem, 0)
	if err != nil || int(maxPos) != len(tokens)-1 {
		llama.MemorySeqRm(e.mem, 0, -1, -1)
		return fmt.Errorf("restored state holds %d tokens, but its header lists %d", int(maxPos)+1, len(tokens))
	}
	e.setPrefix(append([]Token(nil), tokens...))
	return nil
}
