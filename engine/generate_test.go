package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// answer collects what Generate emits and checks every piece is valid UTF-8.
type answer struct {
	mu     sync.Mutex
	pieces []string
	bad    []string
}

func (a *answer) emit(text string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !utf8.ValidString(text) || text == "" {
		a.bad = append(a.bad, text)
	}
	a.pieces = append(a.pieces, text)
	return nil
}

func (a *answer) text() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.pieces, "")
}

func generate(t *testing.T, e *Engine, req GenerateRequest) (string, GenerateStats) {
	t.Helper()
	var a answer
	st, err := e.Generate(context.Background(), req, a.emit)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if len(a.bad) > 0 {
		t.Fatalf("Generate emitted %d empty or invalid UTF-8 pieces: %q", len(a.bad), a.bad)
	}
	return a.text(), st
}

// requireAllSlotsFree checks that every question sequence went back to the pool.
func requireAllSlotsFree(t *testing.T, e *Engine) {
	t.Helper()
	if n, _ := e.slots.counts(); n != e.Settings().Sequences-1 {
		want := e.Settings().Sequences - 1
		t.Fatalf("%d of %d question sequences are free: a sequence leaked", n, want)
	}
}

func argmax(l []float32) Token {
	best := 0
	for i, v := range l {
		if v > l[best] {
			best = i
		}
	}
	return Token(best)
}

func TestGenerateGreedy(t *testing.T) {
	e := openTiny(t, tinyConfig())
	prefix := withBOS(e, e.Tokenize(sourceText(11, 15)))
	q := e.Tokenize(question)
	mustSync(t, e, prefix)

	req := GenerateRequest{Prompt: q, MaxTokens: 40}
	text, st := generate(t, e, req)
	t.Logf("answer %q, stats %+v", text, st)
	if st.CachedTokens != len(prefix) {
		t.Errorf("CachedTokens = %d, want the prefix length %d", st.CachedTokens, len(prefix))
	}
	if st.PromptTokens != len(prefix)+len(q) {
		t.Errorf("PromptTokens = %d, want %d", st.PromptTokens, len(prefix)+len(q))
	}
	switch st.StopReason {
	case "max_tokens":
		if st.GeneratedTokens != req.MaxTokens {
			t.Errorf("stopped for max_tokens after %d tokens, limit %d", st.GeneratedTokens, req.MaxTokens)
		}
	case "eog":
		if st.GeneratedTokens >= req.MaxTokens {
			t.Errorf("eog after %d tokens, beyond the limit %d", st.GeneratedTokens, req.MaxTokens)
		}
	default:
		t.Errorf("StopReason = %q, want max_tokens or eog", st.StopReason)
	}
	if st.GeneratedTokens == 0 || text == "" {
		t.Fatalf("nothing generated: %+v", st)
	}
	requireAllSlotsFree(t, e)

	// Greedy is deterministic.
	again, st2 := generate(t, e, req)
	if again != text || st2.GeneratedTokens != st.GeneratedTokens || st2.StopReason != st.StopReason {
		t.Fatalf("greedy generation differs between runs:\n%q %+v\n%q %+v", text, st, again, st2)
	}

	// The greedy answer is the argmax chain of the prompt's logits, each step
	// decoded from scratch: Generate decodes each token at the right position
	// and samples the right logits.
	var want []byte
	ctx := append([]Token(nil), q...)
	for i := 0; i < st.GeneratedTokens; i++ {
		tok := argmax(mustLogits(t, e, ctx))
		want = append(want, e.Piece(tok)...)
		ctx = append(ctx, tok)
	}
	if w, _ := completeUTF8(want, true); w != text {
		t.Fatalf("Generate's greedy answer differs from the argmax chain:\n got %q\nwant %q", text, w)
	}

	// A shorter limit gives a prefix of the longer answer.
	short, st3 := generate(t, e, GenerateRequest{Prompt: q, MaxTokens: 5})
	if st3.StopReason == "max_tokens" && st3.GeneratedTokens != 5 {
		t.Fatalf("MaxTokens 5: %+v", st3)
	}
	if !strings.HasPrefix(text, strings.TrimRight(short, "\uFFFD")) {
		t.Fatalf("the 5-token answer %q is not a prefix of %q", short, text)
	}
}

func TestGenerateEmptyPrefixAndPrompt(t *testing.T) {
	e := openTiny(t, tinyConfig())
	if _, err := e.Generate(context.Background(), GenerateRequest{}, func(string) error { return nil }); err == nil {
		t.Fatal("Generate with an empty prompt succeeded")
	}
	if _, err := e.PromptLogits(context.Background(), nil); err == nil {
		t.Fatal("PromptLogits with an empty prompt succeeded")
	}
	// No prefix at all: the question alone.
	_, st := generate(t, e, GenerateRequest{Prompt: withBOS(e, e.Tokenize(question)), MaxTokens: 3})
	if st.CachedTokens != 0 || st.GeneratedTokens == 0 {
		t.Fatalf("stats without a prefix: %+v", st)
	}
	requireAllSlotsFree(t, e)
}

func TestGenerateSampledSeed(t *testing.T) {
	e := openTiny(t, tinyConfig())
	mustSync(t, e, withBOS(e, e.Tokenize(sourceText(12, 10))))
	q := e.Tokenize(question)
	req := GenerateRequest{Prompt: q, MaxTokens: 32, Temperature: 0.9, TopP: 0.9, Seed: 42}
	a, _ := generate(t, e, req)
	b, _ := generate(t, e, req)
	if a != b {
		t.Fatalf("sampling with one seed is not reproducible:\n%q\n%q", a, b)
	}
	req.Seed = 43
	c, _ := generate(t, e, req)
	if c == a {
		// 32 tokens drawn from a near-uniform random model: two seeds giving
		// the same answer means the seed is ignored.
		t.Fatalf("seeds 42 and 43 gave the same answer %q", a)
	}
	greedy, _ := generate(t, e, GenerateRequest{Prompt: q, MaxTokens: 32})
	if greedy == a {
		t.Fatalf("temperature sampling gave the greedy answer %q", a)
	}
	// Top-k cuts before sampling: among the single likeliest token, any
	// temperature and seed draw the greedy answer.
	req.TopK = 1
	if one, _ := generate(t, e, req); one != greedy {
		t.Fatalf("top-k 1 sampled %q, want the greedy %q", one, greedy)
	}
}

func TestGenerateCancel(t *testing.T) {
	cfg := tinyConfig()
	e := openTiny(t, cfg)
	mustSync(t, e, withBOS(e, e.Tokenize(sourceText(13, 10))))
	q := e.Tokenize(question)

	// Cancel the context from the first emitted piece.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emitted := 0
	st, err := e.Generate(ctx, GenerateRequest{Prompt: q, MaxTokens: 200}, func(string) error {
		emitted++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Generate returned %v (stats %+v), want context.Canceled", err, st)
	}
	if st.StopReason != "cancelled" || emitted == 0 || st.GeneratedTokens >= 200 {
		t.Fatalf("cancelled Generate: emitted %d pieces, stats %+v", emitted, st)
	}
	requireAllSlotsFree(t, e)

	// An already cancelled context does not start.
	if _, err := e.Generate(ctx, GenerateRequest{Prompt: q}, func(string) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Generate with a cancelled context returned %v", err)
	}
	requireAllSlotsFree(t, e)

	// An emit error stops the generation and is returned.
	errStop := errors.New("client went away")
	calls := 0
	st, err = e.Generate(context.Background(), GenerateRequest{Prompt: q, MaxTokens: 200}, func(string) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) || calls != 1 || st.GeneratedTokens >= 200 {
		t.Fatalf("Generate with a failing emit: err %v, %d emit calls, stats %+v", err, calls, st)
	}
	requireAllSlotsFree(t, e)

	// No sequence leaked: Sequences-1 generations run at the same time. Each
	// holds its sequence, blocked in emit, until all have started; a leaked
	// sequence would leave one waiting for a free sequence forever.
	n := cfg.Sequences - 1
	started := make(chan int, n)
	release := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		go func() {
			first := true
			_, err := e.Generate(context.Background(), GenerateRequest{Prompt: q, MaxTokens: 8}, func(string) error {
				if first {
					first = false
					started <- i
					<-release
				}
				return nil
			})
			errs <- err
		}()
	}
	for range n {
		select {
		case <-started:
		case <-time.After(2 * time.Minute): // a deadlock guard, not a timing check
			close(release)
			t.Fatalf("only some of %d concurrent generations started: a sequence leaked", n)
		}
	}
	if free, _ := e.slots.counts(); free != 0 {
		t.Fatalf("%d sequences free while %d generations hold all of them", free, n)
	}
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	requireAllSlotsFree(t, e)
}

// TestGenerateConcurrent runs several questions at once on one engine; each
// must give the answer it gives alone (decode and sample are one step under
// the lock, so another question's decode cannot change the logits sampled).
func TestGenerateConcurrent(t *testing.T) {
	cfg := tinyConfig()
	cfg.Sequences = 4
	e := openTiny(t, cfg)
	mustSync(t, e, withBOS(e, e.Tokenize(sourceText(14, 15))))
	questions := []string{question, "\nWhere is the cache? λ", "\nExplain func engine() 日本語"}
	reqs := make([]GenerateRequest, len(questions))
	alone := make([]string, len(questions))
	for i, q := range questions {
		reqs[i] = GenerateRequest{Prompt: e.Tokenize(q), MaxTokens: 24}
		alone[i], _ = generate(t, e, reqs[i])
	}
	if alone[0] == alone[1] && alone[1] == alone[2] {
		t.Fatalf("three questions gave one answer %q: the test would not notice mixed-up logits", alone[0])
	}

	const rounds = 2
	before := e.BatchStats()
	var wg sync.WaitGroup
	got := make([][]string, rounds)
	for r := range rounds {
		got[r] = make([]string, 2*len(questions))
		// Twice as many generations as sequences: some wait for a free one.
		for i := range 2 * len(questions) {
			wg.Go(func() {
				var a answer
				_, err := e.Generate(context.Background(), reqs[i%len(questions)], a.emit)
				if err != nil {
					got[r][i] = "error: " + err.Error()
					return
				}
				if len(a.bad) > 0 {
					got[r][i] = fmt.Sprintf("invalid pieces %q", a.bad)
					return
				}
				got[r][i] = a.text()
			})
		}
		wg.Wait()
	}
	for r := range rounds {
		for i, g := range got[r] {
			if want := alone[i%len(questions)]; g != want {
				t.Errorf("round %d, generation %d: got %q, alone %q", r, i, g, want)
			}
		}
	}
	// Continuous batching: running questions shared decodes.
	if bs := e.BatchStats(); bs.Steps-before.Steps <= bs.Rounds-before.Rounds {
		t.Errorf("%d decodes held %d question steps: concurrent questions never shared a decode", bs.Rounds-before.Rounds, bs.Steps-before.Steps)
	}
	requireAllSlotsFree(t, e)
}

// TestGenerateContextFull: an answer that reaches the end of the context
// stops with "context_full" instead of failing a decode.
func TestGenerateContextFull(t *testing.T) {
	cfg := tinyConfig()
	cfg.ContextSize = 256
	e := openTiny(t, cfg)
	if e.Info().ContextSize != 256 {
		t.Skipf("llama.cpp made the context %d tokens, not 256", e.Info().ContextSize)
	}
	prefix := withBOS(e, e.Tokenize(sourceText(15, 30)))[:230]
	mustSync(t, e, prefix)
	q := e.Tokenize("\nQ?")
	_, st := generate(t, e, GenerateRequest{Prompt: q, MaxTokens: 100})
	t.Logf("stats %+v", st)
	if st.StopReason != "context_full" && st.StopReason != "eog" {
		t.Fatalf("an answer past the context end stopped with %+v", st)
	}
	if st.PromptTokens+st.GeneratedTokens > 256 {
		t.Fatalf("%d prompt + %d generated tokens exceed the context of 256", st.PromptTokens, st.GeneratedTokens)
	}
	// A question that does not fit after the prefix is an error.
	if _, err := e.Generate(context.Background(), GenerateRequest{Prompt: make([]Token, 40)}, func(string) error { return nil }); err == nil {
		t.Fatal("a question past the end of the context was accepted")
	}
	requireAllSlotsFree(t, e)
}

func TestCompleteUTF8(t *testing.T) {
	const fffd = "\uFFFD"
	cases := []struct {
		name  string
		in    string
		final bool
		text  string
		rest  string
	}{
		{"ascii", "abc", false, "abc", ""},
		{"empty", "", false, "", ""},
		{"empty final", "", true, "", ""},
		{"whole multibyte", "é日🙂", false, "é日🙂", ""},
		{"2-byte start held", "a\xc3", false, "a", "\xc3"},
		{"3-byte, 2 bytes held", "a\xe6\x97", false, "a", "\xe6\x97"},
		{"4-byte, 3 bytes held", "\xf0\x9f\x99", false, "", "\xf0\x9f\x99"},
		// Like Go's own decoding, each byte of an incomplete tail becomes
		// one U+FFFD.
		{"incomplete flushed", "a\xe6\x97", true, "a" + fffd + fffd, ""},
		{"incomplete then more", "\xe6\x97a", false, fffd + fffd + "a", ""},
		{"invalid lead byte", "a\xffb", false, "a" + fffd + "b", ""},
		{"lone continuation", "\x80x", false, fffd + "x", ""},
		{"bad continuation", "\xe6x", false, fffd + "x", ""},
		{"invalid at the end", "a\xff", false, "a" + fffd, ""},
		{"surrogate", "\xed\xa0\x80", false, fffd + fffd + fffd, ""},
		{"overlong", "\xc0\xaf", false, fffd + fffd, ""},
	}
	for _, c := range cases {
		text, rest := completeUTF8([]byte(c.in), c.final)
		if text != c.text || string(rest) != c.rest {
			t.Errorf("%s: completeUTF8(%q, %v) = %q, %q; want %q, %q", c.name, c.in, c.final, text, rest, c.text, c.rest)
		}
		if !utf8.ValidString(text) {
			t.Errorf("%s: invalid UTF-8 %q", c.name, text)
		}
	}

	// Any split of a valid string into byte chunks, fed as Generate feeds
	// token pieces, yields the string back with every piece valid.
	s := "naïve café: 日本語 ✓ 🙂 λx"
	for size := 1; size <= 5; size++ {
		var pending []byte
		var out strings.Builder
		for i := 0; i < len(s); i += size {
			pending = append(pending, s[i:min(i+size, len(s))]...)
			var text string
			text, pending = completeUTF8(pending, false)
			if !utf8.ValidString(text) {
				t.Fatalf("chunk size %d: invalid piece %q", size, text)
			}
			out.WriteString(text)
		}
		text, rest := completeUTF8(pending, true)
		out.WriteString(text)
		if out.String() != s || len(rest) != 0 {
			t.Fatalf("chunk size %d: got %q (rest %q), want %q", size, out.String(), rest, s)
		}
	}

	// The returned tail does not alias the input.
	in := []byte("a\xe6\x97")
	_, rest := completeUTF8(in, false)
	in[1] = 'x'
	if string(rest) != "\xe6\x97" {
		t.Fatalf("the tail aliases the input: %q", rest)
	}
}

// TestCloseDuringGenerate: closing the engine while questions run ends them
// with ErrClosed (no use of the freed context or vocabulary).
func TestCloseDuringGenerate(t *testing.T) {
	needLib(t)
	e, err := Open(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mustSync(t, e, withBOS(e, e.Tokenize(sourceText(17, 8))))
	q := e.Tokenize(question)

	// From emit, deterministically.
	_, err = e.Generate(context.Background(), GenerateRequest{Prompt: q, MaxTokens: 100}, func(string) error {
		return e.Close()
	})
	if err != ErrClosed {
		t.Fatalf("Generate after a Close from emit returned %v, want ErrClosed", err)
	}

	// From another goroutine, at whatever step the questions are.
	e2, err := Open(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	mustSync(t, e2, withBOS(e2, e2.Tokenize(sourceText(17, 8))))
	var wg sync.WaitGroup
	emitted := make(chan struct{}, 3)
	for range 3 {
		wg.Go(func() {
			_, err := e2.Generate(context.Background(), GenerateRequest{Prompt: q, MaxTokens: 200}, func(string) error {
				select {
				case emitted <- struct{}{}:
				default:
				}
				return nil
			})
			if err != nil && err != ErrClosed {
				t.Errorf("Generate during Close: %v", err)
			}
		})
	}
	<-emitted
	if err := e2.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// TestResumeSuffix: a question continued from a saved suffix (a planning
// session's earlier turns) loads that KV instead of decoding it, and
// answers exactly as when everything is decoded; a state that does not fit
// is not used.
func TestResumeSuffix(t *testing.T) {
	e := openTiny(t, tinyConfig())
	mustSync(t, e, withBOS(e, e.Tokenize(sourceText(14, 15))))
	turn1 := e.Tokenize(question)
	_, st1 := generate(t, e, GenerateRequest{Prompt: turn1, MaxTokens: 12, Keep: true})
	if st1.State == nil || st1.State.KV == 0 || st1.State.KV > len(st1.State.Tokens) || len(st1.State.State) == 0 {
		t.Fatalf("kept state: %+v", st1.State)
	}
	turn2 := append(slices.Clone(st1.State.Tokens), e.Tokenize("\nAnd where is it called?")...)
	fresh, stFresh := generate(t, e, GenerateRequest{Prompt: turn2, MaxTokens: 12})
	resumed, stRes := generate(t, e, GenerateRequest{Prompt: turn2, MaxTokens: 12, Resume: st1.State})
	if stRes.ResumedTokens != st1.State.KV || stRes.CachedTokens != stFresh.CachedTokens+st1.State.KV {
		t.Fatalf("resumed %d of %d kept tokens; cached %d, fresh cached %d", stRes.ResumedTokens, st1.State.KV, stRes.CachedTokens, stFresh.CachedTokens)
	}
	if resumed != fresh {
		t.Fatalf("resumed answer %q, decoded from scratch %q", resumed, fresh)
	}
	// Another prefix length, or a damaged state: decoded from scratch.
	other := *st1.State
	other.PrefixLen++
	if got, st := generate(t, e, GenerateRequest{Prompt: turn2, MaxTokens: 12, Resume: &other}); st.ResumedTokens != 0 || got != fresh {
		t.Fatalf("state for another prefix: resumed %d, answer %q", st.ResumedTokens, got)
	}
	bad := *st1.State
	bad.State = bytes.Repeat([]byte{7}, 64)
	if got, st := generate(t, e, GenerateRequest{Prompt: turn2, MaxTokens: 12, Resume: &bad}); st.ResumedTokens != 0 || got != fresh {
		t.Fatalf("damaged state: resumed %d, answer %q", st.ResumedTokens, got)
	}
	requireAllSlotsFree(t, e)
}
