package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// Client talks to one daemon. It is safe for concurrent use.
type Client struct {
	conn *jsonrpc2.Conn

	mu      sync.Mutex
	streams map[string]*stream
	next    atomic.Uint64
}

type stream struct {
	onToken    func(string)
	onProgress func(Progress)
}

// ErrNotRunning means no daemon listens on the socket.
var ErrNotRunning = errors.New("no lore daemon is running for this repository")

// Dial connects to the daemon listening on socket.
func Dial(ctx context.Context, socket string) (*Client, error) {
	// Nothing is sent before the folder, the socket and the process behind
	// it are known to be the user's own (see trust.go).
	if err := VerifySocketDir(filepath.Dir(socket)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w (socket %s)", ErrNotRunning, socket)
		}
		return nil, err
	}
	if err := verifySocket(socket); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w (socket %s)", ErrNotRunning, socket)
		}
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		// No socket, or a socket nobody listens on (a killed daemon's).
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w (socket %s)", ErrNotRunning, socket)
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w: you may not connect to %s (%v); it or its folder %s is closed to you", ErrDenied, socket, err, filepath.Dir(socket))
		}
		return nil, fmt.Errorf("connecting to the lore daemon at %s: %w", socket, err)
	}
	if err := verifyPeer(nc, socket); err != nil {
		nc.Close()
		return nil, err
	}
	c := &Client{streams: map[string]*stream{}}
	c.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewPlainObjectStream(nc), jsonrpc2.HandlerWithError(c.handle))
	return c, nil
}

// Close closes the connection; the daemon cancels this client's work.
func (c *Client) Close() error { return c.conn.Close() }

// Done is closed when the connection is gone.
func (c *Client) Done() <-chan struct{} { return c.conn.DisconnectNotify() }

func (c *Client) handle(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	if req.Params == nil {
		return nil, nil
	}
	switch req.Method {
	case NotifyToken:
		var p TokenParams
		if err := json.Unmarshal(*req.Params, &p); err == nil {
			if s := c.stream(p.Stream); s != nil && s.onToken != nil {
				s.onToken(p.Text)
			}
		}
	case NotifyProgress:
		var p ProgressParams
		if err := json.Unmarshal(*req.Params, &p); err == nil {
			if s := c.stream(p.Stream); s != nil && s.onProgress != nil {
				s.onProgress(p.Progress)
			}
		}
	}
	return nil, nil
}

func (c *Client) stream(id string) *stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// Status returns the daemon's state.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var st Status
	if err := c.call(ctx, MethodStatus, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Ask asks a question. Answer text goes to onToken as it is generated and
// prefill progress (when the pack must be brought up to date first) to
// onProgress; either may be nil. Cancelling ctx cancels the request: the
// daemon stops answering it and frees its engine sequence.
func (c *Client) Ask(ctx context.Context, p AskParams, onToken func(string), onProgress func(Progress)) (*AskResult, error) {
	var res AskResult
	err := c.streamCall(ctx, MethodAsk, func(id string) any { p.Stream = id; return p }, &res, onToken, onProgress)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// UpdateBuffer tells the daemon an editor holds path with unsaved text, so
// answers see that text instead of the file on disk.
func (c *Client) UpdateBuffer(ctx context.Context, path, text string) error {
	return c.call(ctx, MethodBufferUpdate, BufferParams{Path: path, Text: text}, nil)
}

// CloseBuffer drops an editor buffer: the file on disk counts again.
func (c *Client) CloseBuffer(ctx context.Context, path string) error {
	return c.call(ctx, MethodBufferClose, BufferParams{Path: path}, nil)
}

// Sessions lists the planning sessions, most recently used first.
func (c *Client) Sessions(ctx context.Context) ([]SessionInfo, error) {
	var out []SessionInfo
	if err := c.call(ctx, MethodSessionList, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Session returns a planning session with its transcript.
func (c *Client) Session(ctx context.Context, name string) (*Session, error) {
	var out Session
	if err := c.call(ctx, MethodSessionGet, SessionParams{Name: name}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteSession removes a planning session and its saved KV.
func (c *Client) DeleteSession(ctx context.Context, name string) error {
	return c.call(ctx, MethodSessionDelete, SessionParams{Name: name}, nil)
}

// Shutdown asks the daemon to save its cache and exit. The daemon may close
// the connection before its reply arrives; that, too, means it is stopping.
func (c *Client) Shutdown(ctx context.Context) error {
	err := c.conn.Call(ctx, MethodShutdown, nil, nil)
	if errors.Is(err, jsonrpc2.ErrClosed) {
		return nil
	}
	return callError(err)
}

func (c *Client) call(ctx context.Context, method string, params, result any) error {
	return callError(c.conn.Call(ctx, method, params, result))
}

// callError turns the transport's errors into ones that say what happened.
func callError(err error) error {
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		return &Error{Code: rpcErr.Code, Message: rpcErr.Message}
	}
	if errors.Is(err, jsonrpc2.ErrClosed) {
		return errors.New("the lore daemon closed the connection (it may have stopped; see `lore status` and its log)")
	}
	return err
}

// Error is an error returned by the daemon.
type Error struct {
	Code    int64
	Message string
}

func (e *Error) Error() string { return e.Message }

// Error codes beyond JSON-RPC's own.
const (
	CodeNotReady = 1001 // the daemon failed to start its engine
	CodeBusy     = 1002 // too much queued work: retry later
	CodeNotFound = 1003 // no such session
	CodeNoText   = 1004 // the model wrote nothing usable (a commit draft)
)

// WaitTimeout bounds how long a client waits for a daemon it started.
const WaitTimeout = 60 * time.Second
