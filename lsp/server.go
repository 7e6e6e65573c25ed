package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
)

// Options configure a Server.
type Options struct {
	// Root is the repository (`lore lsp --repo`). Empty: initialize's
	// rootUri or first workspace folder, else the working directory.
	Root string
	// NoStart: fail instead of starting a daemon when none runs.
	NoStart bool
	// LoreBinary starts the daemon; "" = next to this executable or in PATH.
	LoreBinary string
	// DaemonArgs are extra flags for a daemon this server starts.
	DaemonArgs []string
	// Logger gets the server's log (an editor shows stderr in its LSP
	// log); nil discards it.
	Logger *slog.Logger
	// MaxMessageSize caps an incoming message; 0 = MaxMessageSize.
	MaxMessageSize int64
	// Debounce delays sending an edited buffer to the daemon; 0 = 100ms.
	Debounce time.Duration
	// AnswerDir holds rendered answers; "" = the repository's state
	// folder (answers/).
	AnswerDir string
	// Version is reported in serverInfo.
	Version string
}

// Timeouts of the calls the server makes. An answer's own length is bounded
// by its token limit; AskTimeout only stops a stuck one.
const (
	AskTimeout      = 15 * time.Minute
	DaemonTimeout   = 10 * time.Second // status, buffer updates
	ClientTimeout   = 10 * time.Second // requests to the editor
	GitTimeout      = 15 * time.Second
	DefaultDebounce = 100 * time.Millisecond
	stopTimeout     = 5 * time.Second
	retryConnect    = 5 * time.Second // after a failed connection or start
)

// Server is one `lore lsp` session: an LSP server for one editor that
// forwards to the repository's daemon.
type Server struct {
	opts Options
	log  *slog.Logger

	ctx    context.Context // the session's; cancelled at exit
	cancel context.CancelFunc
	conn   *jsonrpc2.Conn
	ready  chan struct{} // closed once conn is set
	exit   chan int      // the exit notification's code
	wg     sync.WaitGroup

	mu          sync.Mutex
	closing     bool
	initialized bool
	shutdown    bool
	root        string
	caps        clientCaps
	settings    Settings
	hover       bool // hoverProvider advertised
	requests    map[jsonrpc2.ID]context.CancelFunc
	progress    map[string]context.CancelFunc // work-done token → its request's cancel
	nextToken   int

	dmu      sync.Mutex
	dclient  *api.Client
	dpending chan struct{} // non-nil while connecting
	derr     error
	dfailed  time.Time // when derr happened
	dwarned  map[string]bool

	docs documents
}

type clientCaps struct {
	workDoneProgress bool
	showDocument     bool
	configuration    bool
	markdownHover    bool
}

// Serve runs an LSP session on in/out until the exit notification or the
// end of in and returns the process exit code: 0 after shutdown (or when in
// ends), 1 for exit without shutdown.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) int {
	return New(opts).Serve(ctx, in, out)
}

// New returns a server; Serve runs it once.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	return &Server{
		opts:     opts,
		log:      opts.Logger,
		ready:    make(chan struct{}),
		exit:     make(chan int, 1),
		settings: DefaultSettings,
		requests: map[jsonrpc2.ID]context.CancelFunc{},
		progress: map[string]context.CancelFunc{},
		dwarned:  map[string]bool{},
		docs:     documents{byURI: map[string]*document{}},
	}
}

// Serve runs the session; see the package function.
func (s *Server) Serve(ctx context.Context, in io.Reader, out io.Writer) int {
	s.ctx, s.cancel = context.WithCancel(ctx)
	defer s.cancel()
	st := newStream(in, out, closers{in, out}, s.opts.MaxMessageSize)
	st.onBad = func(code int64, msg string) { s.log.Warn("bad message from the editor", "code", code, "error", msg) }
	// The connection outlives s.ctx: cancelled work still answers.
	s.conn = jsonrpc2.NewConn(context.WithoutCancel(ctx), st, s, jsonrpc2.SetLogger(logAdapter{s.log}))
	close(s.ready)

	code := 0
	select {
	case code = <-s.exit:
	case <-st.EOF():
		s.log.Info("the editor closed the connection")
	case <-s.conn.DisconnectNotify():
	case <-ctx.Done():
		code = 1
	}
	s.stop()
	st.Close() // waits for the last replies to be written
	return code
}

// stop ends the session: no new work, buffers handed back, in-flight work
// cancelled, every goroutine waited for.
func (s *Server) stop() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.docs.stopTimers()
	// Drop the buffers this editor put in the daemon's pack, on the live
	// connection only: never start a daemon to do so.
	if c := s.currentClient(); c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		for _, d := range s.docs.held() {
			if err := c.CloseBuffer(ctx, d); err != nil {
				break
			}
		}
		cancel()
	}
	// Cancel what runs and let it answer before the connection closes.
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		s.log.Warn("some work did not stop in time")
	}
	s.conn.Close()
	s.dmu.Lock()
	if s.dclient != nil {
		s.dclient.Close()
		s.dclient = nil
	}
	s.dmu.Unlock()
}

// spawn runs f in a goroutine the session waits for; false once closing.
func (s *Server) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// call is one request being served.
type call struct {
	ctx    context.Context
	cancel context.CancelFunc
	req    *jsonrpc2.Request
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

func (s *Server) repoRoot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.root
}

func (s *Server) currentSettings() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// daemon returns the shared client of the repository's daemon, connecting
// (and starting the daemon, unless NoStart) when there is none.
func (s *Server) daemon(ctx context.Context) (*api.Client, error) {
	for {
		s.dmu.Lock()
		if c := s.dclient; c != nil {
			select {
			case <-c.Done():
				s.dclient = nil
			default:
				s.dmu.Unlock()
				return c, nil
			}
		}
		if s.dpending == nil && s.derr != nil && time.Since(s.dfailed) < retryConnect {
			// A failed start is not retried at every status poll.
			err := s.derr
			s.dmu.Unlock()
			return nil, err
		}
		if s.dpending == nil {
			ch := make(chan struct{})
			if !s.spawn(func() { s.connect(ch) }) {
				s.dmu.Unlock()
				return nil, errors.New("the server is shutting down")
			}
			s.dpending = ch
		}
		ch := s.dpending
		s.dmu.Unlock()
		select {
		case <-ch:
			s.dmu.Lock()
			c, err := s.dclient, s.derr
			s.dmu.Unlock()
			if c == nil {
				if err == nil {
					err = errors.New("no connection to the lore daemon")
				}
				return nil, err
			}
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// currentClient is the shared client if connected, without connecting.
func (s *Server) currentClient() *api.Client {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if c := s.dclient; c != nil {
		select {
		case <-c.Done():
		default:
			return c
		}
	}
	return nil
}

func (s *Server) connect(done chan struct{}) {
	root := s.repoRoot()
	ctx, cancel := context.WithTimeout(s.ctx, api.WaitTimeout+10*time.Second)
	defer cancel()
	c, err := api.Connect(ctx, root, api.ConnectOptions{
		Start:      !s.opts.NoStart,
		LoreBinary: s.opts.LoreBinary,
		Args:       s.opts.DaemonArgs,
		OnStart: func(logPath string) {
			s.log.Info("starting the lore daemon", "repo", root, "log", logPath)
			s.showMessage(msgInfo, fmt.Sprintf("lore: starting the daemon for %s (log: %s)", root, logPath))
		},
	})
	if err != nil && s.ctx.Err() == nil {
		s.log.Warn("connecting to the lore daemon", "repo", root, "error", err)
		s.warnOnce("connect", fmt.Sprintf("lore: cannot reach the daemon for %s: %v", root, err))
	}
	s.dmu.Lock()
	if s.ctx.Err() != nil && c != nil {
		c.Close()
		c, err = nil, s.ctx.Err()
	}
	s.dclient, s.derr, s.dpending, s.dfailed = c, err, nil, time.Now()
	if c != nil {
		delete(s.dwarned, "connect")
	}
	s.dmu.Unlock()
	close(done)
	if c != nil {
		s.log.Info("connected to the lore daemon", "repo", root)
		// A new connection (maybe a new daemon): hand over the buffers again.
		s.resyncBuffers()
	}
}

// warnOnce shows a warning once per key until the key is cleared.
func (s *Server) warnOnce(key, msg string) {
	s.dmu.Lock()
	seen := s.dwarned[key]
	s.dwarned[key] = true
	s.dmu.Unlock()
	if !seen {
		s.showMessage(msgWarning, msg)
	}
}

// closers closes each of its members that is an io.Closer.
type closers []any

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if cl, ok := c.(io.Closer); ok {
			if err := cl.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// logAdapter sends jsonrpc2's log lines to the session's logger.
type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Printf(format string, v ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
