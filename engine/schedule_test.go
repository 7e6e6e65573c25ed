package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// TestSlotQueuePriority: a freed sequence goes to the most urgent waiter,
// and among equals to the first that came.
func TestSlotQueuePriority(t *testing.T) {
	q := newSlotQueue([]llama.SeqId{1}, 8)
	ctx := context.Background()
	held, err := q.acquire(ctx, PriorityInteractive)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 4)
	waiters := []struct {
		name string
		prio Priority
	}{{"background", PriorityBackground}, {"hook", PriorityHook}, {"interactive-1", PriorityInteractive}, {"interactive-2", PriorityInteractive}}
	for _, w := range waiters {
		go func() {
			s, err := q.acquire(ctx, w.prio)
			if err != nil {
				order <- "error: " + err.Error()
				return
			}
			order <- w.name
			q.release(s)
		}()
		waitFor(t, func() bool { _, n := q.counts(); return n > 0 && queued(q, w.name, waiters) })
	}
	q.release(held)
	var got []string
	for range waiters {
		got = append(got, <-order)
	}
	want := []string{"interactive-1", "interactive-2", "hook", "background"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sequences went to %v, want %v", got, want)
		}
	}
	// The last waiter reports its turn before it releases the sequence.
	waitFor(t, func() bool { free, waiting := q.counts(); return free == 1 && waiting == 0 })
}

// queued reports whether the waiter named name (and those before it in ws)
// are all in the queue.
func queued(q *slotQueue, name string, ws []struct {
	name string
	prio Priority
}) bool {
	n := 0
	for _, w := range ws {
		n++
		if w.name == name {
			break
		}
	}
	_, waiting := q.counts()
	return waiting == n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // a hang guard, not a timing check
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSlotQueueBusyAndCancel: past the queue limit a caller gets ErrBusy at
// once; a waiter that gives up leaves the queue.
func TestSlotQueueBusyAndCancel(t *testing.T) {
	q := newSlotQueue([]llama.SeqId{1}, 1)
	held, _ := q.acquire(context.Background(), PriorityInteractive)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.acquire(ctx, PriorityInteractive)
		errc <- err
	}()
	waitFor(t, func() bool { _, n := q.counts(); return n == 1 })
	if _, err := q.acquire(context.Background(), PriorityInteractive); !errors.Is(err, ErrBusy) {
		t.Fatalf("acquire past the queue limit: %v, want ErrBusy", err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	if _, n := q.counts(); n != 0 {
		t.Fatalf("%d waiting after the only waiter gave up", n)
	}
	q.release(held)
	if free, _ := q.counts(); free != 1 {
		t.Fatal("the sequence did not come back")
	}
}

// Rounds of background work only run on half the threads; a round with a
// question someone waits for, and a prefill, get them all again.
func TestBackgroundRoundsUseHalfTheThreads(t *testing.T) {
	cfg := tinyConfig()
	cfg.Threads = 2
	e := openTiny(t, cfg)
	mustSync(t, e, withBOS(e, e.Tokenize(sourceText(1, 20))))
	threadsDuring := func(prio Priority) int32 {
		var seen int32
		_, err := e.Generate(context.Background(), GenerateRequest{Prompt: e.Tokenize("\nwhat is this?"), MaxTokens: 8, Priority: prio}, func(string) error {
			e.mu.Lock()
			seen = e.threads
			e.mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return seen
	}
	if n := threadsDuring(PriorityBackground); n != 1 {
		t.Errorf("a background answer decoded with %d threads, want 1", n)
	}
	if n := threadsDuring(PriorityInteractive); n != 2 {
		t.Errorf("an interactive answer after it decoded with %d threads, want 2", n)
	}
	threadsDuring(PriorityBackground)
	mustSync(t, e, withBOS(e, e.Tokenize(sourceText(2, 20))))
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.threads != 2 {
		t.Errorf("a prefill after a background answer left %d threads, want 2", e.threads)
	}
}
