package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"

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
		end := d.activity.begin()
		res, err := d.ask(actx, conn, p)
		end()
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
