package lsp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"lore/internal/rpcwire"

	"github.com/sourcegraph/jsonrpc2"
)

// MaxMessageSize caps the body of one incoming message. A larger message is
// skipped without being held in memory and answered with InvalidRequest.
const MaxMessageSize = 16 << 20

// maxHeaderLine caps one header line; maxHeaders the lines of one header.
const (
	maxHeaderLine = 4 << 10
	maxHeaders    = 32
)

// JSON-RPC and LSP error codes beyond those package jsonrpc2 names.
const (
	CodeServerNotInitialized = -32002
	CodeRequestFailed        = -32803
	CodeRequestCancelled     = -32800
	CodeContentModified      = -32801
)

// stream is LSP's base protocol (Content-Length framed JSON-RPC messages)
// as a jsonrpc2.ObjectStream that survives bad input. jsonrpc2's own
// VSCodeObjectCodec closes the connection at the first bad header or
// invalid JSON; here a bad frame is answered with a JSON-RPC error and
// reading resumes at the next header:
//
//   - junk before a header, a header line without a colon, a missing,
//     invalid or repeated Content-Length: ParseError (id null), then the
//     input is skipped up to the next "Content-" header;
//   - a body that is not JSON (also what a wrong Content-Length produces):
//     ParseError (id null);
//   - JSON that is not a request or response: InvalidRequest, with the id
//     when one can be read;
//   - a body over the size limit: InvalidRequest with the id found in its
//     first 64 KiB; the body is discarded as it is read.
//
// Only the end of the input (or a read error) ends the stream.
type stream struct {
	r      *bufio.Reader
	w      *bufio.Writer
	closer io.Closer
	max    int64

	// Outgoing messages are queued and written by their own goroutine, so
	// that the read loop never waits for the editor to read (an editor
	// that writes while the server writes would deadlock otherwise).
	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte
	closed  bool
	werr    error
	written chan struct{} // closed when the writer goroutine ends

	// The end of the input does not close the connection by itself: eof
	// is closed, and ReadObject reports the end only once Close releases
	// it, so that the server can still answer what it was doing.
	eof       chan struct{}
	eofOnce   sync.Once
	release   chan struct{}
	closeOnce sync.Once

	// resync is set after a bad header: what is left of that frame is
	// skipped without a second error.
	resync bool

	// onBad is told about each bad frame (for the log); may be nil.
	onBad func(code int64, msg string)
}

// Bounds of the outgoing queue: a writer past maxQueue waits for room;
// Close waits closeDrain for the queue to be written.
const (
	maxQueue   = 1024
	closeDrain = 2 * time.Second
)

func newStream(r io.Reader, w io.Writer, closer io.Closer, max int64) *stream {
	if max <= 0 {
		max = MaxMessageSize
	}
	s := &stream{r: bufio.NewReaderSize(r, maxHeaderLine), w: bufio.NewWriter(w), closer: closer, max: max,
		written: make(chan struct{}), eof: make(chan struct{}), release: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.writeLoop()
	return s
}

// WriteObject queues one message.
func (s *stream) WriteObject(obj any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) >= maxQueue && !s.closed && s.werr == nil {
		s.cond.Wait()
	}
	switch {
	case s.werr != nil:
		return s.werr
	case s.closed:
		return io.ErrClosedPipe
	}
	s.queue = append(s.queue, data)
	s.cond.Broadcast()
	return nil
}

func (s *stream) writeLoop() {
	defer close(s.written)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.cond.Wait()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		batch := s.queue
		s.queue = nil
		s.cond.Broadcast()
		s.mu.Unlock()
		var err error
		for _, data := range batch {
			if _, err = fmt.Fprintf(s.w, "Content-Length: %d\r\n\r\n", len(data)); err != nil {
				break
			}
			if _, err = s.w.Write(data); err != nil {
				break
			}
		}
		if err == nil {
			err = s.w.Flush()
		}
		if err != nil {
			s.mu.Lock()
			s.werr = err
			s.queue = nil
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
	}
}

// EOF is closed when the input has ended.
func (s *stream) EOF() <-chan struct{} { return s.eof }

// Close writes what is queued (waiting at most closeDrain) and closes the
// underlying connection. Every call waits for the writes.
func (s *stream) Close() error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.closeOnce.Do(func() { close(s.release) })
	select {
	case <-s.written:
	case <-time.After(closeDrain):
	}
	if s.closer != nil && !already {
		return s.closer.Close()
	}
	return nil
}

// ReadObject reads the next well-formed message into v, answering the bad
// ones on the way.
func (s *stream) ReadObject(v any) error {
	for {
		body, err := s.readFrame()
		if err != nil {
			var fe *frameError
			if !errors.As(err, &fe) {
				// The end of the input (or a read error).
				s.eofOnce.Do(func() { close(s.eof) })
				<-s.release
				return err
			}
			s.resync = fe.resync
			if err := s.replyError(fe.id, fe.code, fe.msg); err != nil {
				return err
			}
			continue
		}
		if !json.Valid(body) {
			// Most likely a wrong Content-Length: what follows up to the
			// next header belongs to this error.
			s.resync = true
			if err := s.replyError(nil, jsonrpc2.CodeParseError, "parse error: the message body is not valid JSON (is Content-Length right?)"); err != nil {
				return err
			}
			continue
		}
		if err := json.Unmarshal(body, v); err != nil {
			if err := s.replyError(peekID(body), jsonrpc2.CodeInvalidRequest, "invalid request: "+err.Error()); err != nil {
				return err
			}
			continue
		}
		return nil
	}
}

// frameError is a bad frame, to be answered; reading goes on.
type frameError struct {
	code int64
	msg  string
	id   json.RawMessage // nil: null
	// resync: the frame's end is unknown; skip to the next header.
	resync bool
}

func (e *frameError) Error() string { return e.msg }

func (s *stream) replyError(id json.RawMessage, code int64, msg string) error {
	if s.onBad != nil {
		s.onBad(code, msg)
	}
	return s.WriteObject(rpcwire.Error(id, code, msg))
}

var headerStart = []byte("Content-")

// readFrame returns the next frame's body, a *frameError for a bad frame,
// or the read error that ends the input.
func (s *stream) readFrame() ([]byte, error) {
	junk, err := s.skipTo(headerStart)
	if err != nil {
		if junk && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			// Junk at the very end: nothing left to answer.
			return nil, io.EOF
		}
		return nil, err
	}
	resync := s.resync
	s.resync = false
	if junk && !resync {
		// Report the junk, then read the header it ran into.
		if err := s.replyError(nil, jsonrpc2.CodeParseError, "parse error: bytes outside a message were skipped (expected a Content-Length header)"); err != nil {
			return nil, err
		}
	}
	length := int64(-1)
	first := true
	for n := 0; ; n++ {
		line, err := s.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return nil, &frameError{resync: true, code: jsonrpc2.CodeParseError, msg: "parse error: header line too long"}
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		text := strings.TrimRight(string(line), "\r\n")
		if first {
			text = string(headerStart) + text
			first = false
		}
		if text == "" {
			break
		}
		if n >= maxHeaders {
			return nil, &frameError{resync: true, code: jsonrpc2.CodeParseError, msg: "parse error: too many header lines"}
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok {
			return nil, &frameError{resync: true, code: jsonrpc2.CodeParseError, msg: fmt.Sprintf("parse error: malformed header line %q", clip(text, 64))}
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			if length >= 0 {
				return nil, &frameError{resync: true, code: jsonrpc2.CodeParseError, msg: "parse error: repeated Content-Length header"}
			}
			l, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || l < 0 {
				return nil, &frameError{resync: true, code: jsonrpc2.CodeParseError, msg: fmt.Sprintf("parse error: invalid Content-Length %q", clip(strings.TrimSpace(value), 32))}
			}
			length = l
		}
		// Content-Type and unknown headers are ignored.
	}
	if length < 0 {
		return nil, &frameError{resync: true, code: jsonrpc2.CodeParseError, msg: "parse error: no Content-Length header"}
	}
	if length > s.max {
		return nil, s.discard(length)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(s.r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// skipTo consumes the input up to (and including) pat; junk says whether
// anything but white space came before it.
func (s *stream) skipTo(pat []byte) (junk bool, err error) {
	matched := 0
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return junk || matched > 0, err
		}
		if b == pat[matched] {
			matched++
			if matched == len(pat) {
				return junk, nil
			}
			continue
		}
		if matched > 0 {
			junk = true
			matched = 0
			if b == pat[0] {
				matched = 1
				continue
			}
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			junk = true
		}
	}
}

// discard skips an oversized body of n bytes and returns the error that
// answers it, with the request's id when its first bytes hold one.
func (s *stream) discard(n int64) error {
	head := make([]byte, min(n, rpcwire.IDScanBytes))
	if _, err := io.ReadFull(s.r, head); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if _, err := io.CopyN(io.Discard, s.r, n-int64(len(head))); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return &frameError{
		code: jsonrpc2.CodeInvalidRequest,
		msg:  fmt.Sprintf("invalid request: the message has %d bytes; the limit is %d", n, s.max),
		id:   rpcwire.ScanID(head),
	}
}

// peekID returns a valid message id (a number or a string) from a JSON
// object, or nil.
func peekID(body []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	return rpcwire.ValidID(m.ID)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
