package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
	"lore/engine"
	"lore/ingest/retrieve"
)

// serveConn serves one client until it disconnects; its requests run
// concurrently and are cancelled when it goes away, which frees their
// engine sequences at once.
func (d *Daemon) serveConn(ctx context.Context, nc net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h := jsonrpc2.HandlerWithError(func(_ context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
		return d.handle(ctx, conn, req)
	})
	h.SuppressErrClosed()
	conn := jsonrpc2.NewConn(ctx, jsonrpc2.NewPlainObjectStream(nc), jsonrpc2.AsyncHandler(h))
	select {
	case <-conn.DisconnectNotify():
	case <-ctx.Done():
		conn.Close()
	}
	d.dropBuffers(conn)
}

func (d *Daemon) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	switch req.Method {
	case api.MethodStatus:
		return d.Status(), nil
	case api.MethodShutdown:
		d.log.Info("shutdown requested by a client")
		d.Shutdown()
		return struct{}{}, nil
	case api.MethodCancel:
		var p api.CancelParams
		if err := unmarshalParams(req, &p); err != nil {
			return nil, err
		}
		d.mu.Lock()
		cancel := d.cancels[cancelKey{conn, p.Stream}]
		d.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		return nil, nil
	case api.MethodBufferUpdate, api.MethodBufferClose:
		var p api.BufferParams
		if err := unmarshalParams(req, &p); err != nil {
			return nil, err
		}
		if req.Method == api.MethodBufferUpdate {
			return struct{}{}, d.updateBuffer(conn, p)
		}
		return struct{}{}, d.closeBuffer(p)
	case api.MethodSessionList:
		if _, err := d.openStore(ctx); err != nil {
			return nil, rpcError(err)
		}
		return d.sessions()
	case api.MethodSessionGet, api.MethodSessionDelete:
		var p api.SessionParams
		if err := unmarshalParams(req, &p); err != nil {
			return nil, err
		}
		if _, err := d.openStore(ctx); err != nil {
			return nil, rpcError(err)
		}
		if req.Method == api.MethodSessionGet {
			s, err := d.session(p.Name)
			if err != nil {
				return nil, rpcError(err)
			}
			return s, nil
		}
		if err := d.deleteSession(ctx, p.Name); err != nil {
			return nil, rpcError(err)
		}
		return struct{}{}, nil
	case api.MethodAsk:
		var p api.AskParams
		if req.Params == nil {
			return nil, invalidParams("ask needs params {\"question\": ...}")
		}
		if err := json.Unmarshal(*req.Params, &p); err != nil {
			return nil, invalidParams("ask params: " + err.Error())
		}
		if strings.TrimSpace(p.Question) == "" {
			return nil, invalidParams("the question is empty")
		}
		actx, cancel := context.WithCancel(ctx)
		defer cancel()
		if p.Stream != "" {
			key := cancelKey{conn, p.Stream}
			d.mu.Lock()
			d.cancels[key] = cancel
			d.mu.Unlock()
			defer func() {
				d.mu.Lock()
				delete(d.cancels, key)
				d.mu.Unlock()
			}()
		}
		d.active.Add(1)
		d.touch()
		res, err := d.ask(actx, conn, p)
		d.touch()
		d.active.Add(-1)
		if err != nil {
			return nil, rpcError(err)
		}
		return res, nil
	default:
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "unknown method " + req.Method}
	}
}

// cancelKey names an ask in flight: the stream names are the client's own.
type cancelKey struct {
	conn   *jsonrpc2.Conn
	stream string
}

func unmarshalParams(req *jsonrpc2.Request, v any) error {
	if req.Params == nil {
		return invalidParams(req.Method + " needs params")
	}
	if err := json.Unmarshal(*req.Params, v); err != nil {
		return invalidParams(req.Method + " params: " + err.Error())
	}
	return nil
}

func invalidParams(msg string) error {
	return &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: msg}
}

func rpcError(err error) error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return &jsonrpc2.Error{Code: ae.Code, Message: ae.Message}
	}
	if errors.Is(err, engine.ErrBusy) {
		return &jsonrpc2.Error{Code: api.CodeBusy, Message: "lore is busy: " + err.Error()}
	}
	return &jsonrpc2.Error{Code: jsonrpc2.CodeInternalError, Message: err.Error()}
}

// ask brings the prefix up to date with the working tree, then answers on
// top of it, streaming text as notifications.
func (d *Daemon) ask(ctx context.Context, conn *jsonrpc2.Conn, p api.AskParams) (*api.AskResult, error) {
	start := time.Now()
	notify := func(method string, params any) {
		// A slow or vanished client must not stall the engine forever.
		nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn.Notify(nctx, method, params)
	}
	progress := func(done, total int) {
		notify(api.NotifyProgress, api.ProgressParams{Stream: p.Stream, Progress: api.Progress{Done: done, Total: total}})
	}
	if err := d.waitReady(ctx, progress); err != nil {
		return nil, err
	}

	prio, err := priority(p.Priority)
	if err != nil {
		return nil, err
	}
	prefilled, err := d.freshPrefix(ctx, progress)
	if err != nil {
		return nil, err
	}
	defer d.prefixMu.RUnlock()
	// Once this answer is done, tidy the layout if the policy says so.
	defer d.maintainAsync(d.ctx)
	d.mu.Lock()
	ps := d.pack
	d.mu.Unlock()

	res := &api.AskResult{PrefilledTokens: prefilled, PackVersion: ps.version, Omitted: ps.omitted}
	prompt, err := d.questionTokens(p, res)
	if err != nil {
		return nil, err
	}
	var sess *sessionTurn
	if p.Session != "" {
		if sess, err = d.openSession(ctx, p.Session, ps); err != nil {
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
		if err := d.finishSession(sess, p, res, st); err != nil {
			return nil, err
		}
	}
	res.ElapsedMillis = millis(time.Since(start))
	if decode := st.Elapsed - st.TTFT; st.GeneratedTokens > 1 && decode > 0 {
		d.mu.Lock()
		d.decodeRate = float64(st.GeneratedTokens-1) / decode.Seconds()
		d.mu.Unlock()
	}
	return res, nil
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// freshPrefix returns holding prefixMu shared, with sequence 0 holding the
// pack of the working tree as it is now. Questions check freshness together;
// only when the tree changed does one take prefixMu exclusively to bring the
// prefix up to date. It returns the tokens this question had to prefill.
func (d *Daemon) freshPrefix(ctx context.Context, progress engine.Progress) (int, error) {
	d.prefixMu.RLock()
	ok, seen, err := d.fresh(ctx)
	if err != nil || ok {
		if err != nil {
			d.prefixMu.RUnlock()
		}
		return 0, err
	}
	d.prefixMu.RUnlock()
	d.prefixMu.Lock()
	// The scan that found the change serves, unless a newer one was
	// applied meanwhile.
	prefilled, err := d.refreshLocked(ctx, &seen, progress)
	d.prefixMu.Unlock()
	if err != nil {
		return prefilled, err
	}
	// A rebuild may slip in between: it keeps the pack fresh, and the
	// engine holds its prefix once it lets go.
	d.prefixMu.RLock()
	return prefilled, nil
}

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

// questionTokens is what goes after the prefix: the files the question
// names that the pack does not hold in full (up to half the question
// reserve), the code the question is about, then the question. Callers
// hold prefixMu.
func (d *Daemon) questionTokens(p api.AskParams, res *api.AskResult) ([]engine.Token, error) {
	var prompt []engine.Token
	if cands := d.packer.ReducedFiles(); len(cands) > 0 {
		budget := engine.QuestionRoom(d.eng.Info().ContextSize) / 2
		if p.Session != "" {
			budget /= 2 // the session's history takes the other half
		}
		if seg, paths := retrieve.Retrieve(p.Question, cands, budget, d.countTokens); len(paths) > 0 {
			toks, err := d.segmentTokens(seg)
			if err != nil {
				return nil, err
			}
			prompt = toks
			res.Retrieved = paths
		}
	}
	if p.Location != nil {
		text, err := d.locationText(*p.Location)
		if err != nil {
			return nil, err
		}
		prompt = append(prompt, d.eng.Tokenize(text)...)
	}
	return append(prompt, d.eng.Tokenize(questionText(p.Question))...), nil
}

// questionText wraps a question so the model reads it as one, after the
// repository. Kept out of the prefix: it changes with every question.
func questionText(q string) string {
	return "\n<question>\n" + strings.TrimSpace(q) + "\n</question>\n<answer>\n"
}
