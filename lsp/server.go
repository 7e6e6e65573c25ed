package lsp

import (
	"context"
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
	jobs        map[int]context.CancelFunc // answer commands running after their reply
	nextJob     int

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
	// changeAnnotations: the client takes change annotations in workspace
	// edits; lore.generate's ask for a confirmation (VS Code shows its
	// refactor preview, a diff, before applying).
	changeAnnotations bool
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
		jobs:     map[int]context.CancelFunc{},
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
