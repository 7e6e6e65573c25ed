package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"lore/api"
)

// soak runs the trials on one clone and state folder.
type soak struct {
	ctx   context.Context
	b     *privateDaemon
	clone string
	rng   *rand.Rand
	log   io.Writer
	edits int
	// editFile is the file edits append to: one the pack holds in full, so
	// that an edit makes the next start prefill.
	editFile string
	last     *api.Status // the last restart's status once ready
}

// startTimeout bounds a restart: loading and a full prefill of the clone.
const startTimeout = 5 * time.Minute

// restart starts a daemon, waits until it is ready, asks one question and
// stops it cleanly, recording what it found.
func (s *soak) restart(phase, fault string) faultTrial {
	t := faultTrial{Phase: phase, Fault: fault}
	lostBefore := s.storesLost()
	ctx, cancel := context.WithTimeout(s.ctx, startTimeout)
	defer cancel()
	p, c, err := s.start(ctx)
	if err != nil {
		t.Error = err.Error()
		t.Crashed = p != nil && p.exited(time.Second)
		return t
	}
	defer p.kill()
	defer c.Close()
	st, err := waitDaemonReady(ctx, c)
	if err != nil {
		t.Error = "not ready: " + err.Error()
		t.Crashed = p.exited(time.Second)
		return t
	}
	t.Restarted = true
	t.Restored, t.Prefilled = st.RestoredTokens, st.PrefilledTokens
	s.last = st
	if _, err := c.Ask(ctx, api.AskParams{Question: "What does this repository do?", MaxTokens: 4, Seed: 1}, nil, nil); err != nil {
		t.Error = "ask: " + err.Error()
		t.Crashed = p.exited(time.Second)
		return t
	}
	t.Answered = true
	if err := p.stop(ctx, c); err != nil {
		t.Error = "stop: " + err.Error()
	}
	for _, p := range s.storesLost() {
		t.StoreLost = t.StoreLost || !slices.Contains(lostBefore, p)
	}
	return t
}

// start launches a daemon and dials it once its socket answers; the process
// comes back watched, so that a death is seen at once.
func (s *soak) start(ctx context.Context) (*proc, *api.Client, error) {
	cmd, err := s.b.launch()
	if err != nil {
		return nil, nil, err
	}
	p := watch(cmd)
	for {
		if c, err := api.Dial(ctx, s.b.socket()); err == nil {
			return p, c, nil
		}
		select {
		case <-p.done:
			return p, nil, fmt.Errorf("the daemon exited at start (%v); see %s", p.err, s.b.logPath())
		case <-ctx.Done():
			p.kill()
			return p, nil, fmt.Errorf("the daemon did not open its socket: %w; see %s", ctx.Err(), s.b.logPath())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// proc is a daemon process whose exit a goroutine waits for.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the exit, once done is closed
}

func watch(cmd *exec.Cmd) *proc {
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

// exited reports whether the process ends within d.
func (p *proc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// kill ends the process with SIGKILL (if it still runs) and reaps it.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// stop asks the daemon to shut down and waits for its exit, which must be
// clean.
func (p *proc) stop(ctx context.Context, c *api.Client) error {
	err := c.Shutdown(ctx)
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err == nil {
		err = p.err
	}
	return err
}

// storesLost lists the stores moved aside as corrupt that are on disk; the
// store keeps only the newest, so a new name, not a count, tells of a loss.
func (s *soak) storesLost() []string {
	m, _ := filepath.Glob(filepath.Join(s.b.state(), "repos", "*", "badger.corrupt-*"))
	return m
}

// snapshots lists the KV snapshot files of the state folder.
func (s *soak) snapshots() []string {
	m, _ := filepath.Glob(filepath.Join(s.b.state(), "repos", "*", "snapshots", "*.kv"))
	return m
}

// edit appends a line to a tracked file of the clone, so that the next
// start finds the tree changed since its snapshot.
func (s *soak) edit() error {
	s.edits++
	f, err := os.OpenFile(filepath.Join(s.clone, filepath.FromSlash(s.editFile)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "\nfault soak edit %d\n", s.edits)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// killTrial starts a daemon, kills it at a random moment of the span the
// baseline's whole life took (with a question in flight half the time),
// and restarts it.
func (s *soak) killTrial(i int, life time.Duration) faultTrial {
	setup := "snapshot"
	switch i % 3 {
	case 0:
		for _, p := range s.snapshots() {
			os.Remove(p)
		}
		setup = "no snapshot"
	case 1:
		if err := s.edit(); err != nil {
			return faultTrial{Phase: "kill", Fault: "edit", Error: err.Error()}
		}
		setup = "after an edit"
	}
	delay := time.Duration(s.rng.Int64N(int64(life)))
	asking := s.rng.IntN(2) == 0

	cmd, err := s.b.launch()
	if err != nil {
		return faultTrial{Phase: "kill", Fault: setup, Error: err.Error()}
	}
	p := watch(cmd)
	ctx, cancel := context.WithCancel(s.ctx)
	var wg sync.WaitGroup
	if asking {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.askWhenUp(ctx)
		}()
	}
	state := "no socket yet"
	select {
	case <-s.ctx.Done():
	case <-p.done:
	case <-time.After(delay):
	}
	if c, err := api.Dial(ctx, s.b.socket()); err == nil {
		sctx, scancel := context.WithTimeout(ctx, 200*time.Millisecond)
		if st, err := c.Status(sctx); err == nil {
			state = st.State
			if st.ActiveQuestions > 0 {
				state += ", answering"
			}
		}
		scancel()
		c.Close()
	}
	crashed := p.exited(0)
	p.kill()
	cancel()
	wg.Wait()
	fault := fmt.Sprintf("%s, killed at %s (%s)", setup, delay.Round(time.Millisecond), state)
	if crashed {
		return faultTrial{Phase: "kill", Fault: fault, Crashed: true, Error: fmt.Sprintf("the daemon died before the kill (%v)", p.err)}
	}
	return s.restart("kill", fault)
}

// askWhenUp asks questions until ctx ends, so that the kill can meet one
// in flight.
func (s *soak) askWhenUp(ctx context.Context) {
	for ctx.Err() == nil {
		c, err := api.Dial(ctx, s.b.socket())
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.Ask(ctx, api.AskParams{Question: "Where is the entry point?", MaxTokens: 8}, nil, nil)
		c.Close()
	}
}
