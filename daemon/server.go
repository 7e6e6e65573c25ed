package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
	"lore/engine"
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
	limit := d.maxMsg
	if limit <= 0 {
		limit = api.MaxMessageBytes
	}
	// jsonrpc2 logs a connection's end through the standard logger; the
	// stream logs what matters (bad messages, stalled clients) itself.
	quiet := jsonrpc2.SetLogger(log.New(io.Discard, "", 0))
	conn := jsonrpc2.NewConn(ctx, newStream(nc, limit, d.log), jsonrpc2.AsyncHandler(h), quiet)
	select {
	case <-conn.DisconnectNotify():
	case <-ctx.Done():
		conn.Close()
	}
	d.dropBuffers(conn)
}

// call is one request being served.
type call struct {
	ctx  context.Context // the connection's: ends when the client goes away
	conn *jsonrpc2.Conn
	req  *jsonrpc2.Request
}

// handler serves one API method.
type handler func(*Daemon, *call) (any, error)

// handlers are the API's methods.
var handlers = map[string]handler{
	api.MethodStatus:        bare((*Daemon).statusMethod),
	api.MethodShutdown:      bare((*Daemon).shutdownMethod),
	api.MethodCancel:        typed((*Daemon).cancelMethod),
	api.MethodBufferUpdate:  typed((*Daemon).bufferUpdateMethod),
	api.MethodBufferClose:   typed((*Daemon).bufferCloseMethod),
	api.MethodSessionList:   bare((*Daemon).sessionListMethod),
	api.MethodSessionGet:    typed((*Daemon).sessionGetMethod),
	api.MethodSessionDelete: typed((*Daemon).sessionDeleteMethod),
	api.MethodAsk:           typed((*Daemon).askMethod),
	api.MethodSummarize:     typed((*Daemon).summarizeMethod),
	api.MethodCommitDraft:   typed((*Daemon).commitDraftMethod),
	api.MethodNote:          typed((*Daemon).noteMethod),
	api.MethodPlan:          typed((*Daemon).planMethod),
}

// paramsExample is added to the error for a method called without params.
var paramsExample = map[string]string{
	api.MethodAsk: ` {"question": ...}`,
}

// typed adapts a method that takes params of type P: they are decoded
// from the request (and are required), and the result is encoded as the
// reply.
func typed[P, R any](fn func(*Daemon, *call, P) (R, error)) handler {
	return func(d *Daemon, c *call) (any, error) {
		var p P
		if c.req.Params == nil {
			return nil, invalidParams(c.req.Method + " needs params" + paramsExample[c.req.Method])
		}
		if err := json.Unmarshal(*c.req.Params, &p); err != nil {
			return nil, invalidParams(c.req.Method + " params: " + err.Error())
		}
		return reply(fn(d, c, p))
	}
}

// bare adapts a method without params.
func bare[R any](fn func(*Daemon, *call) (R, error)) handler {
	return func(d *Daemon, c *call) (any, error) {
		return reply(fn(d, c))
	}
}

// reply is a method's result as the reply's: nothing when it failed.
func reply[R any](res R, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (d *Daemon) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	h, ok := handlers[req.Method]
	if !ok {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "unknown method " + req.Method}
	}
	return h(d, &call{ctx: ctx, conn: conn, req: req})
}

func (d *Daemon) statusMethod(*call) (*api.Status, error) { return d.Status(), nil }

func (d *Daemon) shutdownMethod(*call) (struct{}, error) {
	d.log.Info("shutdown requested by a client")
	d.Shutdown()
	return struct{}{}, nil
}

// cancelMethod cancels an ask of the same client; its result is null.
func (d *Daemon) cancelMethod(c *call, p api.CancelParams) (*struct{}, error) {
	d.mu.Lock()
	cancel := d.cancels[cancelKey{c.conn, p.Stream}]
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil, nil
}

func (d *Daemon) bufferUpdateMethod(c *call, p api.BufferParams) (struct{}, error) {
	return struct{}{}, d.updateBuffer(c.conn, p)
}

func (d *Daemon) bufferCloseMethod(_ *call, p api.BufferParams) (struct{}, error) {
	return struct{}{}, d.closeBuffer(p)
}

func (d *Daemon) sessionListMethod(c *call) ([]api.SessionInfo, error) {
	if _, err := d.openStore(c.ctx); err != nil {
		return nil, rpcError(err)
	}
	return d.sessions()
}

func (d *Daemon) sessionGetMethod(c *call, p api.SessionParams) (*api.Session, error) {
	if err := checkSessionName(p.Name); err != nil {
		return nil, err
	}
	if _, err := d.openStore(c.ctx); err != nil {
		return nil, rpcError(err)
	}
	s, err := d.session(p.Name)
	if err != nil {
		return nil, rpcError(err)
	}
	return s, nil
}

func (d *Daemon) sessionDeleteMethod(c *call, p api.SessionParams) (struct{}, error) {
	if err := checkSessionName(p.Name); err != nil {
		return struct{}{}, err
	}
	if _, err := d.openStore(c.ctx); err != nil {
		return struct{}{}, rpcError(err)
	}
	if err := d.deleteSession(c.ctx, p.Name); err != nil {
		return struct{}{}, rpcError(err)
	}
	return struct{}{}, nil
}

// askMethod answers a question; a client may cancel it by its stream name.
func (d *Daemon) askMethod(c *call, p api.AskParams) (*api.AskResult, error) {
	if err := checkAsk(p); err != nil {
		return nil, err
	}
	return d.serveAsk(c, p)
}

// serveAsk answers a checked question for a client (asks, summaries,
// drafts), which may cancel it by its stream name.
func (d *Daemon) serveAsk(c *call, p api.AskParams) (*api.AskResult, error) {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	if p.Stream != "" {
		key := cancelKey{c.conn, p.Stream}
		d.mu.Lock()
		d.cancels[key] = cancel
		d.mu.Unlock()
		defer func() {
			d.mu.Lock()
			delete(d.cancels, key)
			d.mu.Unlock()
		}()
	}
	end := d.activity.begin()
	res, err := d.ask(ctx, c.conn, p)
	end()
	if err != nil {
		return nil, rpcError(err)
	}
	return res, nil
}

// cancelKey names an ask in flight: the stream names are the client's own.
type cancelKey struct {
	conn   *jsonrpc2.Conn
	stream string
}

func invalidParams(msg string) error {
	return &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: msg}
}

// rpcError gives an error its JSON-RPC code: the API's own errors keep
// theirs, anything else is an internal error.
func rpcError(err error) error {
	var re *jsonrpc2.Error
	if errors.As(err, &re) {
		return re
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return &jsonrpc2.Error{Code: ae.Code, Message: ae.Message}
	}
	if errors.Is(err, engine.ErrBusy) {
		return &jsonrpc2.Error{Code: api.CodeBusy, Message: "lore is busy: " + err.Error()}
	}
	return &jsonrpc2.Error{Code: jsonrpc2.CodeInternalError, Message: err.Error()}
}
