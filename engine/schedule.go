package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// Priority orders work that waits for the engine: lower values go first,
// both for a free question sequence and for room in each decode batch.
type Priority int

// Priorities, most urgent first.
const (
	PriorityInteractive Priority = iota // a person waits for the answer
	PriorityHook                        // git hooks: commit messages, summaries
	PriorityBackground                  // work nobody waits for
)

// DefaultMaxQueue bounds the questions waiting for a free sequence.
const DefaultMaxQueue = 16

// ErrBusy means too many questions already wait for a free sequence.
var ErrBusy = errors.New("the engine is busy")

// gatherWait is how long the batcher waits for the other running questions'
// next tokens before decoding without them. Without it, questions whose
// steps arrive a little apart would alternate instead of sharing batches.
const gatherWait = time.Millisecond

// slotQueue hands out question sequences by priority, then arrival.
type slotQueue struct {
	mu      sync.Mutex
	free    []llama.SeqId
	waiting []*slotWaiter // by priority, then arrival
	max     int
}

type slotWaiter struct {
	prio Priority
	ch   chan llama.SeqId // buffered: release never blocks
}

func newSlotQueue(seqs []llama.SeqId, max int) *slotQueue {
	return &slotQueue{free: seqs, max: max}
}

func (q *slotQueue) acquire(ctx context.Context, prio Priority) (llama.SeqId, error) {
	q.mu.Lock()
	if len(q.free) > 0 {
		s := q.free[len(q.free)-1]
		q.free = q.free[:len(q.free)-1]
		q.mu.Unlock()
		return s, nil
	}
	if len(q.waiting) >= q.max {
		n := len(q.waiting)
		q.mu.Unlock()
		return 0, fmt.Errorf("%w: %d questions are already waiting for one of the engine's sequences; retry shortly", ErrBusy, n)
	}
	w := &slotWaiter{prio: prio, ch: make(chan llama.SeqId, 1)}
	i := len(q.waiting)
	for i > 0 && q.waiting[i-1].prio > prio {
		i--
	}
	q.waiting = slices.Insert(q.waiting, i, w)
	q.mu.Unlock()
	select {
	case s := <-w.ch:
		return s, nil
	case <-ctx.Done():
		q.mu.Lock()
		if i := slices.Index(q.waiting, w); i >= 0 {
			q.waiting = slices.Delete(q.waiting, i, i+1)
			q.mu.Unlock()
			return 0, ctx.Err()
		}
		q.mu.Unlock()
		q.release(<-w.ch) // handed a sequence as we gave up: pass it on
		return 0, ctx.Err()
	}
}

func (q *slotQueue) release(s llama.SeqId) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) > 0 {
		w := q.waiting[0]
		q.waiting = q.waiting[1:]
		w.ch <- s
		return
	}
	q.free = append(q.free, s)
}

func (q *slotQueue) counts() (free, waiting int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.free), len(q.waiting)
}

// step is tokens to decode into a question's sequence. The batcher decodes
// it, in as many batches as it takes and together with other questions'
// steps, then calls last with the batch index of its last token (whose
// logits were computed) while still holding the engine's lock.
type step struct {
	ctx  context.Context
	seq  llama.SeqId
	pos  int // position of toks[0]
	toks []Token
	prio Priority
	last func(idx int32)

	off  int // tokens decoded so far
	err  error
	done chan struct{}
}

// decode runs one step through the batcher and waits for it. It always
// waits for the batcher to let go of the step, so that the caller may free
// its sequence afterwards.
func (e *Engine) decode(ctx context.Context, seq llama.SeqId, pos int, toks []Token, prio Priority, last func(int32)) error {
	if pos+len(toks) >= e.info.ContextSize {
		return fmt.Errorf("question of %d tokens does not fit after the %d-token prefix in the context of %d", len(toks), pos, e.info.ContextSize)
	}
	s := &step{ctx: ctx, seq: seq, pos: pos, toks: toks, prio: prio, last: last, done: make(chan struct{})}
	select {
	case e.steps <- s:
	case <-e.quit:
		return ErrClosed
	}
	<-s.done
	return s.err
}

// batcher decodes the steps of all running questions together: each round
// is one llama.cpp decode holding the next token of every question that is
// generating, filled up with prompt tokens of questions still reading their
// prompt (continuous batching).
func (e *Engine) batcher() {
	defer close(e.batcherDone)
	var ready []*step
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if len(ready) == 0 {
			select {
			case s := <-e.steps:
				ready = append(ready, s)
			case <-e.quit:
				return
			}
		}
		// Wait briefly for the other running questions' steps.
		timer.Reset(gatherWait)
	gather:
		for len(ready) < int(e.running.Load()) {
			select {
			case s := <-e.steps:
				ready = append(ready, s)
			case <-timer.C:
				break gather
			case <-e.quit:
				break gather
			}
		}
		timer.Stop()
		select {
		case <-e.quit:
			for _, s := range ready {
				s.finish(ErrClosed)
			}
			e.drainSteps()
			return
		default:
		}
		ready = e.round(ready)
	}
}

// setThreads gives a round of background work only half the threads, leaving
// cores to the person at the machine: a git commit made while the daemon
// writes notes, an editor. Called with e.mu held.
func (e *Engine) setThreads(highest Priority) {
	n := int32(e.cfg.Threads)
	if highest >= PriorityBackground {
		n = max(1, n/2)
	}
	if n != e.threads {
		llama.SetNThreads(e.lctx, n, n)
		e.threads = n
	}
}

// BatchStats counts the batcher's decodes of question tokens and the
// question steps they held: Steps/Rounds above 1 means questions shared
// decodes.
type BatchStats struct {
	Rounds, Steps int64
}

// BatchStats returns the batcher's counts since the engine opened.
func (e *Engine) BatchStats() BatchStats {
	return BatchStats{Rounds: e.rounds.Load(), Steps: e.roundSteps.Load()}
}

// drainSteps fails the steps submitted while the engine closed.
func (e *Engine) drainSteps() {
	for {
		select {
		case s := <-e.steps:
			s.finish(ErrClosed)
		default:
			return
		}
	}
}

func (s *step) finish(err error) {
	s.err = err
	close(s.done)
}

// round decodes one batch from ready and returns the steps left unfinished.
func (e *Engine) round(ready []*step) []*step {
	// Generating questions (one token left) first, then by priority, so a
	// long prompt never delays the next token of an answer being streamed.
	slices.SortStableFunc(ready, func(a, b *step) int {
		if ra, rb := len(a.toks)-a.off == 1, len(b.toks)-b.off == 1; ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return int(a.prio) - int(b.prio)
	})
	type part struct {
		s    *step
		n    int
		last int32 // batch index of the step's last token, or -1
	}
	var parts []part
	keep := ready[:0]
	room := e.cfg.BatchSize
	for _, s := range ready {
		if err := s.ctx.Err(); err != nil {
			s.finish(err)
			continue
		}
		n := min(len(s.toks)-s.off, room)
		if n > 0 {
			parts = append(parts, part{s: s, n: n, last: -1})
			room -= n
		}
		keep = append(keep, s)
	}
	ready = keep
	if len(parts) == 0 {
		return ready
	}

	e.mu.Lock()
	err := ErrClosed
	if !e.closed {
		e.batch.Clear()
		idx := int32(0)
		for i := range parts {
			p := &parts[i]
			s := p.s
			for j := s.off; j < s.off+p.n; j++ {
				final := j == len(s.toks)-1
				if err = e.batch.Add(llama.Token(s.toks[j]), llama.Pos(s.pos+j), []llama.SeqId{s.seq}, final); err != nil {
					break
				}
				if final {
					p.last = idx
				}
				idx++
			}
			if err != nil {
				break
			}
		}
		if err == nil {
			highest := PriorityBackground
			for _, p := range parts {
				highest = min(highest, p.s.prio)
			}
			e.setThreads(highest)
			err = e.decodeBatch(idx)
		}
		if err == nil {
			e.rounds.Add(1)
			e.roundSteps.Add(int64(len(parts)))
			for _, p := range parts {
				p.s.off += p.n
				if p.last >= 0 && p.s.last != nil {
					p.s.last(p.last)
				}
			}
		}
	}
	e.mu.Unlock()

	keep = ready[:0]
	for _, s := range ready {
		switch {
		case err != nil && slices.ContainsFunc(parts, func(p part) bool { return p.s == s }):
			s.finish(err)
		case err == nil && s.off == len(s.toks):
			s.finish(nil)
		default:
			keep = append(keep, s)
		}
	}
	return keep
}
