package daemon

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestActivityWaitsForQuestionsToEnd(t *testing.T) {
	a := newActivity()
	if err := a.wait(context.Background(), 0); err != nil {
		t.Fatalf("idle gate: %v", err)
	}
	end := a.begin()
	if n := a.questions(); n != 1 {
		t.Fatalf("questions = %d, want 1", n)
	}
	done := make(chan error, 1)
	go func() { done <- a.wait(context.Background(), 0) }()
	select {
	case err := <-done:
		t.Fatalf("wait returned while a question runs: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	end()
	end() // a second end is a no-op
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return once the question ended")
	}
	if n := a.questions(); n != 0 {
		t.Fatalf("questions = %d after the end, want 0", n)
	}
}

func TestActivityWaitsForQuiet(t *testing.T) {
	a := newActivity()
	const quiet = 300 * time.Millisecond
	a.begin()()
	ended := time.Now()
	done := make(chan error, 1)
	go func() { done <- a.wait(context.Background(), quiet) }()
	// Another question within the quiet time starts it over.
	time.Sleep(quiet / 2)
	a.begin()()
	again := time.Now()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(again); waited < quiet {
		t.Fatalf("wait returned %v after the last question, want at least %v (first ended %v ago)", waited, quiet, time.Since(ended))
	}
}

func TestActivityWaitEndsWithItsContext(t *testing.T) {
	a := newActivity()
	end := a.begin()
	defer end()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.wait(ctx, time.Hour) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("wait = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not end with its context")
	}
}
