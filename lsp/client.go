package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// Client is a minimal LSP client of `lore lsp`, as an editor plugin drives
// it: lore's tests and `lore bench lsp` use it. It answers the server's
// requests (work-done progress creation, showDocument, configuration)
// through OnRequest, routes partial results of Ask, and cancels a request
// whose context ends with $/cancelRequest, as LSP clients do.
type Client struct {
	conn *jsonrpc2.Conn
	next atomic.Uint64

	mu      sync.Mutex
	partial map[string]func(json.RawMessage)

	// OnRequest answers a request from the server; nil answers null. It
	// runs in the read loop (which keeps partial results in order), so it
	// must not call the server.
	OnRequest func(method string, params json.RawMessage) (any, error)
	// OnNotify sees every notification from the server but the partial
	// results Ask consumes; may be nil. It runs in the read loop.
	OnNotify func(method string, params json.RawMessage)
	// OnResponse sees the method of each response to a request of this
	// client as it arrives, in order with OnNotify (a test can tell what
	// came before a reply); may be nil. It runs in the read loop.
	OnResponse func(method string)
}

// CancelWait bounds the wait for a cancelled request's answer.
const CancelWait = 30 * time.Second

// NewClient talks LSP over rwc (the server's stdout to read, stdin to
// write). Set the On* hooks before the first call.
func NewClient(rwc io.ReadWriteCloser) *Client {
	c := &Client{partial: map[string]func(json.RawMessage){}}
	c.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(rwc, jsonrpc2.VSCodeObjectCodec{}),
		jsonrpc2.HandlerWithError(c.handle), jsonrpc2.SetLogger(nopLogger{}),
		jsonrpc2.OnRecv(func(req *jsonrpc2.Request, resp *jsonrpc2.Response) {
			if resp != nil && req != nil && c.OnResponse != nil {
				c.OnResponse(req.Method)
			}
		}))
	return c
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Done is closed when the connection is gone.
func (c *Client) Done() <-chan struct{} { return c.conn.DisconnectNotify() }

func (c *Client) handle(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	var params json.RawMessage
	if req.Params != nil {
		params = *req.Params
	}
	if req.Notif {
		if req.Method == "$/progress" {
			var p struct {
				Token json.RawMessage `json:"token"`
				Value json.RawMessage `json:"value"`
			}
			if json.Unmarshal(params, &p) == nil {
				c.mu.Lock()
				f := c.partial[tokenKey(p.Token)]
				c.mu.Unlock()
				if f != nil {
					f(p.Value)
					return nil, nil
				}
			}
		}
		if c.OnNotify != nil {
			c.OnNotify(req.Method, params)
		}
		return nil, nil
	}
	if c.OnRequest != nil {
		return c.OnRequest(req.Method, params)
	}
	return nil, nil
}

// Notify sends a notification.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	return c.conn.Notify(ctx, method, params)
}

// Call sends a request and waits for its answer. When ctx ends first, the
// request is cancelled with $/cancelRequest and Call returns the server's
// answer to it (RequestCancelled, normally), waiting at most CancelWait.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	id := jsonrpc2.ID{Num: c.next.Add(1)}
	w, err := c.conn.DispatchCall(ctx, method, params, jsonrpc2.PickID(id))
	if err != nil {
		return err
	}
	err = w.Wait(ctx, result)
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	nctx, cancel := context.WithTimeout(context.Background(), CancelWait)
	defer cancel()
	if err := c.conn.Notify(nctx, "$/cancelRequest", map[string]any{"id": id}); err != nil {
		return err
	}
	return w.Wait(nctx, result)
}

// Ask sends lore/ask with a partial result token; onText gets each chunk
// of the answer as it arrives.
func (c *Client) Ask(ctx context.Context, p AskParams, onText func(string)) (*AskResult, error) {
	tok := json.RawMessage(fmt.Sprintf(`"ask-%d"`, c.next.Add(1)))
	p.PartialResultToken = tok
	c.mu.Lock()
	c.partial[tokenKey(tok)] = func(v json.RawMessage) {
		var pt PartialText
		if json.Unmarshal(v, &pt) == nil && onText != nil {
			onText(pt.Text)
		}
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.partial, tokenKey(tok))
		c.mu.Unlock()
	}()
	var res AskResult
	if err := c.Call(ctx, MethodAsk, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ReadWriteCloser joins a process's output and input into the connection
// NewClient needs; Close closes the input.
type ReadWriteCloser struct {
	io.Reader
	io.WriteCloser
}
