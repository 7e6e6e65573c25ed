package daemon_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lore/api"
	"lore/config"
	"lore/ingest/scan"
	"lore/internal/testenv"
)

// TestTwoClientsAtOnce: questions from two clients run together (their
// tokens share decodes) and each stream is the answer it gets alone.
func TestTwoClientsAtOnce(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	d.ready(t)
	questions := []string{"What does Gamma do?", "Where is Beta's sum computed?"}
	alone := make([]string, len(questions))
	for i, q := range questions {
		res, _ := d.ask(t, q)
		alone[i] = res.Text
	}
	if alone[0] == alone[1] {
		t.Fatalf("both questions gave %q: mixed-up streams would go unnoticed", alone[0])
	}
	clients := make([]*api.Client, len(questions))
	for i := range clients {
		c, err := api.Dial(context.Background(), e.socket())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	for round := 0; round < 2; round++ {
		var wg sync.WaitGroup
		streamed := make([]string, len(questions))
		results := make([]*api.AskResult, len(questions))
		errs := make([]error, len(questions))
		for i, q := range questions {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				var b strings.Builder
				results[i], errs[i] = clients[i].Ask(ctx, api.AskParams{Question: q, MaxTokens: 12}, func(s string) { b.WriteString(s) }, nil)
				streamed[i] = b.String()
			})
		}
		wg.Wait()
		for i := range questions {
			if errs[i] != nil {
				t.Fatalf("round %d, client %d: %v", round, i, errs[i])
			}
			if streamed[i] != results[i].Text || results[i].Text != alone[i] {
				t.Fatalf("round %d, client %d: streamed %q, result %q, alone %q", round, i, streamed[i], results[i].Text, alone[i])
			}
		}
	}
	st, _ := d.client.Status(context.Background())
	if st.ActiveQuestions != 0 || st.QueuedQuestions != 0 {
		t.Fatalf("after the answers: %d active, %d queued", st.ActiveQuestions, st.QueuedQuestions)
	}
	if st.BatchDecodes == 0 || st.BatchSteps < st.BatchDecodes {
		t.Fatalf("batcher counts: %d steps in %d decodes", st.BatchSteps, st.BatchDecodes)
	}
	if _, err := d.client.Ask(context.Background(), api.AskParams{Question: "x", Priority: "urgent"}, nil, nil); err == nil || !strings.Contains(err.Error(), "unknown priority") {
		t.Fatalf("a bad priority: %v", err)
	}
	d.stop(t)
}

// TestEditorBuffers: an unsaved buffer's text is what the next answer sees;
// a buffer holding a secret stays out; closing the buffer brings the file
// on disk back. A question's location is placed before it.
func TestEditorBuffers(t *testing.T) {
	e := newEnv(t)
	e.vars = append(e.vars, config.EnvWatch+"=off") // the question itself refreshes
	d := e.start()
	st := d.ready(t)
	ctx := context.Background()
	gamma := filepath.Join(e.repo, "gamma", "gamma.go")
	edited := strings.Replace(testenv.FixtureFiles["gamma/gamma.go"], "!", "?! unsaved", 1)
	if err := d.client.UpdateBuffer(ctx, gamma, edited); err != nil {
		t.Fatal(err)
	}
	res, _ := d.ask(t, "What does Gamma return?")
	if res.PackVersion == st.PackVersion || res.PrefilledTokens == 0 || res.PrefilledTokens > st.PackTokens/4 {
		t.Fatalf("unsaved buffer: version %s -> %s, prefilled %d of %d", st.PackVersion, res.PackVersion, res.PrefilledTokens, st.PackTokens)
	}
	st2, _ := d.client.Status(ctx)
	if st2.Buffers != 1 || st2.PackVersion != res.PackVersion {
		t.Fatalf("status after a buffer: %d buffers, version %s (answer %s)", st2.Buffers, st2.PackVersion, res.PackVersion)
	}
	// The same text again changes nothing.
	if err := d.client.UpdateBuffer(ctx, "gamma/gamma.go", edited); err != nil {
		t.Fatal(err)
	}
	if res2, _ := d.ask(t, "And now?"); res2.PrefilledTokens != 0 || res2.PackVersion != res.PackVersion {
		t.Fatalf("unchanged buffer: prefilled %d, version %s -> %s", res2.PrefilledTokens, res.PackVersion, res2.PackVersion)
	}

	// A buffer with a secret never reaches the pack: the file leaves it.
	secret := "package alpha\n\nconst token = \"ghp_" + "Zq8Xv3Lm9Tr2Wn5Kp7Yb4Hc6Jd1Fg0Se8Ua3\"\n"
	if _, ok := scan.DetectSecret("alpha/alpha.go", []byte(secret)); !ok {
		t.Fatal("the test's secret is not detected as one")
	}
	if err := d.client.UpdateBuffer(ctx, "alpha/alpha.go", secret); err != nil {
		t.Fatal(err)
	}
	d.ask(t, "What is in alpha?")
	if st4, _ := d.client.Status(ctx); st4.Skipped != st2.Skipped+1 {
		t.Fatalf("a buffer with a secret: %d skipped, was %d", st4.Skipped, st2.Skipped)
	}

	if err := d.client.CloseBuffer(ctx, gamma); err != nil {
		t.Fatal(err)
	}
	if err := d.client.CloseBuffer(ctx, "alpha/alpha.go"); err != nil {
		t.Fatal(err)
	}
	if st3, _ := d.client.Status(ctx); st3.Buffers != 0 {
		t.Fatalf("%d buffers after closing both", st3.Buffers)
	}

	// A client that goes away takes its buffers with it.
	other, err := api.Dial(ctx, e.socket())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.UpdateBuffer(ctx, "beta/beta.go", "package beta // unsaved by a client that dies\n"); err != nil {
		t.Fatal(err)
	}
	if st, _ := d.client.Status(ctx); st.Buffers != 1 {
		t.Fatalf("%d buffers, want the other client's", st.Buffers)
	}
	other.Close()
	deadline := time.Now().Add(10 * time.Second) // a hang guard, not a timing check
	for {
		st, _ := d.client.Status(ctx)
		if st.Buffers == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d buffers left after their client disconnected", st.Buffers)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Paths outside the repository are refused with the reason.
	var ae *api.Error
	if err := d.client.UpdateBuffer(ctx, "/etc/passwd", "x"); !errors.As(err, &ae) || !strings.Contains(err.Error(), "not inside the repository") {
		t.Fatalf("buffer outside the repository: %v", err)
	}

	// A location: the selected lines go before the question.
	plain, _ := d.ask(t, "Explain this.")
	loc, err := d.client.Ask(ctx, api.AskParams{Question: "Explain this.", MaxTokens: 12,
		Location: &api.Location{Path: "beta/beta.go", StartLine: 1, EndLine: 3}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if loc.PromptTokens <= plain.PromptTokens {
		t.Fatalf("a location added no tokens: %d vs %d", loc.PromptTokens, plain.PromptTokens)
	}
	if _, err := d.client.Ask(ctx, api.AskParams{Question: "x", Location: &api.Location{Path: "beta/beta.go", StartLine: 5, EndLine: 2}}, nil, nil); err == nil || !strings.Contains(err.Error(), "bad line range") {
		t.Fatalf("bad range: %v", err)
	}
	d.stop(t)
}

// TestDeleteAndRename: a deleted file leaves the pack through a small
// deletion note in the overlay, and a renamed file is the old one deleted
// and the new one added; nothing before them is prefilled again.
func TestDeleteAndRename(t *testing.T) {
	e := newEnv(t)
	e.vars = append(e.vars, config.EnvWatch+"=off") // the question itself refreshes
	d := e.start()
	st := d.ready(t)
	if err := os.Remove(filepath.Join(e.repo, "gamma", "gamma.go")); err != nil {
		t.Fatal(err)
	}
	res, _ := d.ask(t, "Where did Gamma go?")
	st2, _ := d.client.Status(context.Background())
	if res.PrefilledTokens == 0 || res.PrefilledTokens > 64 || st2.Segments != st.Segments+1 || res.PackVersion == st.PackVersion {
		t.Fatalf("delete: prefilled %d, segments %d -> %d", res.PrefilledTokens, st.Segments, st2.Segments)
	}
	if err := os.Rename(filepath.Join(e.repo, "beta", "beta.go"), filepath.Join(e.repo, "beta", "sum.go")); err != nil {
		t.Fatal(err)
	}
	res2, _ := d.ask(t, "Where is the sum now?")
	st3, _ := d.client.Status(context.Background())
	if res2.PrefilledTokens == 0 || st3.Segments != st2.Segments+2 || st3.KVTokens-res2.PrefilledTokens != st2.KVTokens {
		t.Fatalf("rename: prefilled %d, segments %d -> %d, kv %d -> %d", res2.PrefilledTokens, st2.Segments, st3.Segments, st2.KVTokens, st3.KVTokens)
	}
	d.stop(t)
}
