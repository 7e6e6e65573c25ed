package daemon

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"lore/internal/rpcwire"

	"github.com/sourcegraph/jsonrpc2"
)

// writeTimeout is how long a client may leave the daemon's writes to it
// unread. A client that stops reading would otherwise keep its questions,
// and the view of the prefix each holds, waiting forever: a sync waits for
// that view, and every question after the sync waits with it.
const writeTimeout = 10 * time.Second

// keepBuffer is the largest read buffer a connection keeps between
// messages; a larger one (a big editor buffer) is let go.
const keepBuffer = 1 << 20

// stream is the daemon's end of a client connection: JSON-RPC messages as
// plain JSON values one after another (what jsonrpc2.NewPlainObjectStream
// writes, one a line). jsonrpc2's own plain stream holds a message of any
// size in memory and closes the connection at the first byte that is not
// JSON; here
//
//   - a message over max bytes is answered with CodeInvalidRequest (with
//     its id when its first 64 KiB hold one) and skipped as it is read;
//   - bytes that are not a JSON object or array, or a value that is not
//     valid JSON, are answered with CodeParseError (id null);
//   - JSON that is not a request or response is answered with
//     CodeInvalidRequest;
//
// and reading goes on with the next value. A write the client does not
// take within writeTimeout closes the connection, which cancels its
// requests.
type stream struct {
	conn net.Conn
	r    *bufio.Reader
	max  int
	buf  []byte

	wmu sync.Mutex // one message written at a time

	log *slog.Logger // bad messages and stalled clients
}

func newStream(conn net.Conn, max int, log *slog.Logger) *stream {
	return &stream{conn: conn, r: bufio.NewReader(conn), max: max, log: log}
}

// WriteObject writes one message.
func (s *stream) WriteObject(obj any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := s.conn.Write(data); err != nil {
		// A message cut off leaves the rest of the output unreadable, and
		// a client that does not read must not hold what its requests
		// hold: the connection ends.
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.log.Warn("a client left the daemon's writes unread: disconnected, its requests cancelled", "after", writeTimeout)
		}
		s.conn.Close()
		return err
	}
	return nil
}

// Close closes the connection.
func (s *stream) Close() error { return s.conn.Close() }

// ReadObject reads the next well-formed message into v, answering the bad
// ones on the way. Only the end of the input (or a read error) ends it.
func (s *stream) ReadObject(v any) error {
	for {
		msg, err := s.next()
		if err != nil {
			var be *badMessage
			if !errors.As(err, &be) {
				return err
			}
			if err := s.replyError(be.id, be.code, be.msg); err != nil {
				return err
			}
			continue
		}
		if !json.Valid(msg) {
			if err := s.replyError(nil, jsonrpc2.CodeParseError, "parse error: the message is not valid JSON"); err != nil {
				return err
			}
			continue
		}
		if err := json.Unmarshal(msg, v); err != nil {
			if err := s.replyError(rpcwire.ScanID(msg), jsonrpc2.CodeInvalidRequest, "invalid request: "+err.Error()); err != nil {
				return err
			}
			continue
		}
		if cap(s.buf) > keepBuffer {
			s.buf = nil
		}
		return nil
	}
}

// badMessage is a message to answer with an error; reading goes on.
type badMessage struct {
	code int64
	msg  string
	id   json.RawMessage // nil: null
}

func (e *badMessage) Error() string { return e.msg }

func (s *stream) replyError(id json.RawMessage, code int64, msg string) error {
	s.log.Info("bad message from a client", "code", code, "err", msg)
	return s.WriteObject(rpcwire.Error(id, code, msg))
}

// next returns the bytes of the next JSON object or array, from its
// opening to its closing bracket (found by counting brackets outside
// strings; whether it is valid JSON is checked later), a *badMessage, or
// the error that ends the input.
func (s *stream) next() ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == '{' || b == '[' {
			s.r.UnreadByte()
			break
		}
		if !isSpace(b) {
			// Not a message: skip the rest of its line.
			for {
				_, err := s.r.ReadSlice('\n')
				if err == nil {
					break
				}
				if err != bufio.ErrBufferFull {
					return nil, err
				}
			}
			return nil, &badMessage{code: jsonrpc2.CodeParseError, msg: "parse error: expected a JSON-RPC message (a JSON object); the line was skipped"}
		}
	}
	depth, inString, escaped := 0, false, false
	total, over := 0, false
	for {
		if _, err := s.r.Peek(1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		chunk, _ := s.r.Peek(s.r.Buffered())
		n := len(chunk)
		end := false
	scan:
		for i, c := range chunk {
			switch {
			case escaped:
				escaped = false
			case inString:
				if c == '\\' {
					escaped = true
				} else if c == '"' {
					inString = false
				}
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
				if depth == 0 {
					n, end = i+1, true
					break scan
				}
			}
		}
		total += n
		if total > s.max && !over {
			// Only the start is kept, to find the id in.
			over = true
			s.buf = s.buf[:min(len(s.buf), rpcwire.IDScanBytes)]
		}
		if !over {
			s.buf = append(s.buf, chunk[:n]...)
		} else if len(s.buf) < rpcwire.IDScanBytes {
			s.buf = append(s.buf, chunk[:min(n, rpcwire.IDScanBytes-len(s.buf))]...)
		}
		s.r.Discard(n)
		if end {
			break
		}
	}
	if over {
		id := rpcwire.ScanID(s.buf)
		s.buf = nil
		return nil, &badMessage{
			code: jsonrpc2.CodeInvalidRequest,
			msg:  fmt.Sprintf("invalid request: the message has %d bytes; the limit is %d (%d MiB)", total, s.max, s.max>>20),
			id:   id,
		}
	}
	return s.buf, nil
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }
