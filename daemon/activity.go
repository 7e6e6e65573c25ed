package daemon

import (
	"context"
	"sync"
	"time"
)

// activity is the daemon's one record of questions: how many run and since
// when none has started or ended. Background work (a rebuild, a snapshot,
// the idle shutdown) waits on it for quiet instead of polling.
type activity struct {
	mu      sync.Mutex
	running int
	last    time.Time     // the last question's start or end
	changed chan struct{} // closed and replaced at every change
}

func newActivity() *activity {
	return &activity{changed: make(chan struct{})}
}

// begin records a question starting; the function it returns records its
// end and must be called once.
func (a *activity) begin() (end func()) {
	a.update(1)
	var once sync.Once
	return func() { once.Do(func() { a.update(-1) }) }
}

// touch records activity without a question: the idle time counts from now.
func (a *activity) touch() { a.update(0) }

func (a *activity) update(delta int) {
	a.mu.Lock()
	a.running += delta
	a.last = time.Now()
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// idle is the time since the last question started or ended, or since
// start before any; zero while one runs.
func (a *activity) idle(start time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running > 0 {
		return 0
	}
	if a.last.IsZero() {
		return time.Since(start)
	}
	return time.Since(a.last)
}

// questions is how many questions run now.
func (a *activity) questions() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running
}

// wait returns once no question runs and none has started or ended for
// quiet, or with ctx's error.
func (a *activity) wait(ctx context.Context, quiet time.Duration) error {
	for {
		a.mu.Lock()
		running, left, changed := a.running, quiet-time.Since(a.last), a.changed
		a.mu.Unlock()
		if running == 0 && left <= 0 {
			return nil
		}
		var timeout <-chan time.Time
		var t *time.Timer
		if running == 0 {
			t = time.NewTimer(left)
			timeout = t.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-timeout:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
