package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
)

// call is one request being served.
type call struct {
	ctx    context.Context
	cancel context.CancelFunc
	req    *jsonrpc2.Request
	// after, when set, runs once the reply is sent: work that must not
	// reach the editor before the reply (an answer command's answer).
	after func()
}

type handlerFunc func(*Server, *call) (any, error)

// methods are the requests served. Quick ones run in the read loop, in
// order with the notifications; the others in their own goroutines.
var methods = map[string]struct {
	fn    handlerFunc
	async bool
}{
	"initialize":               {(*Server).initialize, false},
	"shutdown":                 {(*Server).shutdownRequest, true},
	"textDocument/codeAction":  {(*Server).codeAction, false},
	"textDocument/hover":       {(*Server).hoverRequest, true},
	"workspace/executeCommand": {(*Server).executeCommand, true},
	MethodAsk:                  {(*Server).askRequest, true},
	MethodStatus:               {(*Server).statusRequest, true},
}

// Handle implements jsonrpc2.Handler.
func (s *Server) Handle(_ context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	<-s.ready
	if req.Notif {
		s.notification(req)
		return
	}
	s.mu.Lock()
	initialized, shutdown := s.initialized, s.shutdown
	s.mu.Unlock()
	switch {
	case req.Method == "initialize" && initialized:
		s.replyErr(req, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidRequest, Message: "initialize was already received"})
		return
	case req.Method != "initialize" && !initialized:
		s.replyErr(req, &jsonrpc2.Error{Code: CodeServerNotInitialized, Message: "the server is not initialized yet"})
		return
	case shutdown:
		s.replyErr(req, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidRequest, Message: "the server is shutting down"})
		return
	}
	if req.Method == "shutdown" {
		// From here on requests are refused; shutdownRequest waits for
		// the ones in flight.
		s.mu.Lock()
		s.shutdown = true
		s.mu.Unlock()
	}
	m, ok := methods[req.Method]
	if !ok {
		s.replyErr(req, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "method not found: " + req.Method})
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	c := &call{ctx: ctx, cancel: cancel, req: req}
	s.mu.Lock()
	s.requests[req.ID] = cancel
	s.mu.Unlock()
	run := func() {
		res, err := m.fn(s, c)
		// Leave the in-flight set only once the answer is queued, so that
		// shutdown is answered after it.
		defer func() {
			s.mu.Lock()
			delete(s.requests, req.ID)
			s.mu.Unlock()
			cancel()
		}()
		var rerr *jsonrpc2.Error
		if err != nil && ctx.Err() != nil && !errors.As(err, &rerr) {
			err = &jsonrpc2.Error{Code: CodeRequestCancelled, Message: "request cancelled"}
		}
		if err != nil {
			s.replyErr(req, err)
			return
		}
		if err := conn.Reply(context.Background(), req.ID, res); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
			s.log.Warn("reply", "method", req.Method, "error", err)
		}
		if c.after != nil {
			c.after()
		}
	}
	if !m.async {
		run()
		return
	}
	if !s.spawn(run) {
		s.mu.Lock()
		delete(s.requests, req.ID)
		s.mu.Unlock()
		cancel()
		s.replyErr(req, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidRequest, Message: "the server is shutting down"})
	}
}

func (s *Server) replyErr(req *jsonrpc2.Request, err error) {
	var rerr *jsonrpc2.Error
	var aerr *api.Error
	switch {
	case errors.As(err, &rerr):
	case errors.As(err, &aerr):
		rerr = &jsonrpc2.Error{Code: aerr.Code, Message: "lore daemon: " + aerr.Message}
	default:
		rerr = &jsonrpc2.Error{Code: CodeRequestFailed, Message: err.Error()}
	}
	if err := s.conn.ReplyWithError(context.Background(), req.ID, rerr); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		s.log.Warn("reply", "method", req.Method, "error", err)
	}
}

func (s *Server) notification(req *jsonrpc2.Request) {
	if req.Method == "exit" {
		s.mu.Lock()
		code := 1
		if s.shutdown {
			code = 0
		}
		s.mu.Unlock()
		select {
		case s.exit <- code:
		default:
		}
		return
	}
	s.mu.Lock()
	initialized := s.initialized
	s.mu.Unlock()
	if !initialized {
		return // dropped, as the spec says
	}
	var err error
	switch req.Method {
	case "initialized":
		s.spawn(s.initializedNotification)
	case "$/cancelRequest":
		err = s.cancelRequest(req)
	case "window/workDoneProgress/cancel":
		err = s.cancelProgress(req)
	case "textDocument/didOpen":
		err = s.didOpen(req)
	case "textDocument/didChange":
		err = s.didChange(req)
	case "textDocument/didSave":
		err = s.didSave(req)
	case "textDocument/didClose":
		err = s.didClose(req)
	case "workspace/didChangeConfiguration":
		err = s.didChangeConfiguration(req)
	default:
		// $/setTrace, $/logTrace and anything unknown: ignored.
	}
	if err != nil {
		s.log.Warn("notification", "method", req.Method, "error", err)
	}
}

// shutdownRequest cancels the requests in flight and answers once they
// have answered (bounded by stopTimeout), so that every request sent before
// shutdown is answered before it.
func (s *Server) shutdownRequest(c *call) (any, error) {
	deadline := time.Now().Add(stopTimeout)
	for {
		s.mu.Lock()
		n := 0
		for id, cancel := range s.requests {
			if id != c.req.ID {
				cancel()
				n++
			}
		}
		for _, cancel := range s.jobs {
			cancel()
			n++
		}
		s.mu.Unlock()
		if n == 0 || time.Now().After(deadline) {
			return nil, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *Server) cancelRequest(req *jsonrpc2.Request) error {
	var p struct {
		ID jsonrpc2.ID `json:"id"`
	}
	if err := unmarshal(req, &p); err != nil {
		return err
	}
	s.mu.Lock()
	cancel := s.requests[p.ID]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

// unmarshal decodes a message's params; a decoding error is InvalidParams.
func unmarshal(req *jsonrpc2.Request, v any) error {
	if req.Params == nil {
		return &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: req.Method + ": missing params"}
	}
	if err := json.Unmarshal(*req.Params, v); err != nil {
		return &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: req.Method + ": invalid params: " + err.Error()}
	}
	return nil
}

func invalidParams(format string, a ...any) error {
	return &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: fmt.Sprintf(format, a...)}
}

// notify sends a notification to the editor.
func (s *Server) notify(method string, params any) {
	if err := s.conn.Notify(context.Background(), method, params); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		s.log.Warn("notify", "method", method, "error", err)
	}
}

// callClient sends a request to the editor and waits (bounded) for its
// answer. Never call it from the read loop: the answer arrives there.
func (s *Server) callClient(ctx context.Context, method string, params, result any) error {
	ctx, cancel := context.WithTimeout(ctx, ClientTimeout)
	defer cancel()
	return s.conn.Call(ctx, method, params, result)
}

// showMessage shows a message in the editor (window/showMessage).
func (s *Server) showMessage(typ int, msg string) {
	s.notify("window/showMessage", map[string]any{"type": typ, "message": msg})
}

// Message types of window/showMessage.
const (
	msgError   = 1
	msgWarning = 2
	msgInfo    = 3
)
