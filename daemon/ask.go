package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
	"lore/engine"
	"lore/ingest"
	"lore/ingest/retrieve"
)

// ask brings the prefix up to date with the working tree, then answers on
// top of it, streaming text as notifications.
func (d *Daemon) ask(ctx context.Context, conn *jsonrpc2.Conn, p api.AskParams) (*api.AskResult, error) {
	start := time.Now()
	notify := func(method string, params any) {
		// A client that stops reading is let go after writeTimeout (see
		// stream), which cancels this question. The daemon's own questions
		// (notes) have no client.
		if conn != nil {
			conn.Notify(ctx, method, params)
		}
	}
	progress := func(done, total int) {
		notify(api.NotifyProgress, api.ProgressParams{Stream: p.Stream, Progress: api.Progress{Done: done, Total: total}})
	}
	if err := d.waitReady(ctx, progress); err != nil {
		return nil, err
	}
	if err := checkMaxTokens(p.MaxTokens, d.eng.Info().ContextSize); err != nil {
		return nil, err
	}
	prio, err := priority(p.Priority)
	if err != nil {
		return nil, err
	}
	// The question's own text is tokenized before the prefix is taken:
	// tokenizing cannot be interrupted, and while a view is out a sync
	// waits, and every question after it with it.
	tail := d.eng.Tokenize(questionText(p.Question))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, release, err := d.prefix.acquire(ctx, progress)
	if err != nil {
		return nil, err
	}
	defer release()

	res := &api.AskResult{PrefilledTokens: v.prefilled, PackVersion: v.version, Omitted: v.omitted}
	prompt, err := d.retrieved(v, p, res)
	if err != nil {
		return nil, err
	}
	// The location is read from the scan the view was found fresh against,
	// so it is tokenized under the view; its size is bounded (locationText).
	loc, err := d.locationTokens(v, p)
	if err != nil {
		return nil, err
	}
	prompt = slices.Concat(prompt, loc, tail)
	var sess *sessionTurn
	if p.Session != "" {
		if sess, err = d.openSession(ctx, p.Session, v); err != nil {
			return nil, err
		}
		defer sess.unlock()
		prompt = append(slices.Clone(sess.history), prompt...)
	}
	var text strings.Builder
	var first time.Time
	st, err := d.eng.Generate(ctx, engine.GenerateRequest{
		Prompt:      prompt,
		MaxTokens:   p.MaxTokens,
		Temperature: p.Temperature,
		TopP:        p.TopP,
		TopK:        p.TopK,
		Seed:        p.Seed,
		Priority:    prio,
		Resume:      sess.resumeState(),
		Keep:        sess != nil,
	}, func(s string) error {
		if first.IsZero() {
			first = time.Now()
		}
		text.WriteString(s)
		notify(api.NotifyToken, api.TokenParams{Stream: p.Stream, Text: s})
		return ctx.Err()
	})
	if err != nil {
		if ctx.Err() != nil {
			d.log.Info("question cancelled by its client")
		}
		return nil, err
	}
	res.Text = text.String()
	if !first.IsZero() {
		res.TTFTMillis = millis(first.Sub(start))
	}
	res.PromptTokens = st.PromptTokens
	res.CachedTokens = st.CachedTokens
	res.GeneratedTokens = st.GeneratedTokens
	res.StopReason = st.StopReason
	res.QueuedMillis = millis(st.Queued)
	if sess != nil {
		if err := d.finishSession(v, sess, p, res, st); err != nil {
			return nil, err
		}
	}
	if ds := d.diskStatus(); ds != nil && ds.Full {
		res.DiskWarning = ds.Message
	}
	res.ElapsedMillis = millis(time.Since(start))
	if decode := st.Elapsed - st.TTFT; st.GeneratedTokens > 1 && decode > 0 {
		d.mu.Lock()
		d.decodeRate = float64(st.GeneratedTokens-1) / decode.Seconds()
		d.mu.Unlock()
	}
	d.mu.Lock()
	if n, t := st.PromptTokens-st.CachedTokens, st.TTFT-st.Queued; n >= 256 && t > 0 {
		d.questionRate = float64(n) / t.Seconds()
	}
	d.lastRetrieved, d.lastFull = res.Retrieved, res.RetrievedFull
	d.lastPrompt, d.lastCached = st.PromptTokens, st.CachedTokens
	d.mu.Unlock()
	return res, nil
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// priority maps the API's priority names to the engine's.
func priority(p string) (engine.Priority, error) {
	switch p {
	case "", api.PriorityInteractive:
		return engine.PriorityInteractive, nil
	case api.PriorityHook:
		return engine.PriorityHook, nil
	case api.PriorityBackground:
		return engine.PriorityBackground, nil
	}
	return 0, invalidParams(fmt.Sprintf("unknown priority %q: use %s, %s or %s", p, api.PriorityInteractive, api.PriorityHook, api.PriorityBackground))
}

// retrieved is what goes first after the prefix: the files the question
// needs that the view's pack does not hold in full, within the allowance
// the machine's prefill speed gives (retrievalAllowance).
func (d *Daemon) retrieved(v *view, p api.AskParams, res *api.AskResult) ([]engine.Token, error) {
	cands := v.reduced
	if len(cands) == 0 {
		return nil, nil
	}
	budget := d.retrievalAllowance(p.Session != "")
	res.RetrievalAllowance = budget
	r := retrieve.Select(p.Question, cands, budget, d.prefix.tokens.count)
	if len(r.Full)+len(r.Excerpts) == 0 {
		return nil, nil
	}
	toks, err := d.prefix.tokens.segment(r.Segment)
	if err != nil {
		return nil, err
	}
	res.Retrieved, res.RetrievedFull, res.RetrievedTokens = r.Paths(), r.Full, len(toks)
	return toks, nil
}

// retrievalAllowance is what one question may spend on retrieved files:
// what the engine prefills in retrieval_latency at the speed last
// measured, within the room the context leaves for them.
func (d *Daemon) retrievalAllowance(session bool) int {
	room := engine.RetrievalRoom(d.eng.Info().ContextSize, session)
	return engine.RetrievalAllowance(room, d.retrievalRate(), d.opts.RetrievalLatency)
}

// retrievalRate is the prefill speed the allowance is sized by: that of
// the last question that prefilled at least 256 tokens, which is measured
// where retrieved files go, at the end of the context, where every token
// attends to the whole prefix; before one, the prefix's own prefill
// speed, an average over positions that are mostly cheaper.
func (d *Daemon) retrievalRate() float64 {
	d.mu.Lock()
	q := d.questionRate
	d.mu.Unlock()
	if q > 0 {
		return q
	}
	return d.prefix.prefillRate()
}

// locationTokens is what goes after the retrieved files: the code the
// question is about, if any.
func (d *Daemon) locationTokens(v *view, p api.AskParams) ([]engine.Token, error) {
	if p.Location == nil {
		return nil, nil
	}
	text, err := d.locationText(v.scanned, *p.Location)
	if err != nil {
		return nil, err
	}
	return d.eng.Tokenize(text), nil
}

// questionText wraps a question so the model reads it as one, after the
// repository. Kept out of the prefix: it changes with every question. It
// is fenced as files are: a question that quotes a diff (hooks, a summary
// of changes) cannot end itself and start a forged answer.
func questionText(q string) string {
	return "\n<question>\n" + ingest.Fence(strings.TrimSpace(q)) + "\n</question>\n<answer>\n"
}
