package lsp

import (
	"context"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	protocol "github.com/tliron/glsp/protocol_3_16"
)

// Text synchronization: the editor's open documents are mirrored here
// (incremental sync); a document whose text differs from its file on disk
// is sent to the daemon as an unsaved buffer (debounced), so answers see
// what the user sees. Closing it, or saving it so that the file matches,
// drops the buffer: the file on disk counts again.

// document is an open editor buffer of a file in the repository.
type document struct {
	uri     string
	abs     string
	rel     string
	version protocol.Integer
	text    string
	open    bool
	dirty   bool        // the text may differ from the file on disk
	gen     int         // changes of the wanted daemon state
	sent    int         // the gen the daemon has (-1: none sent)
	held    bool        // the daemon holds a buffer for it
	timer   *time.Timer // pending debounced send
	sendMu  sync.Mutex  // one send at a time, in order
	lastErr string
}

type documents struct {
	mu    sync.Mutex
	byURI map[string]*document
}

func (ds *documents) text(uri string) (string, bool) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if d := ds.byURI[uri]; d != nil {
		return d.text, true
	}
	return "", false
}

// held lists the paths of the buffers the daemon holds.
func (ds *documents) held() []string {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	var out []string
	for _, d := range ds.byURI {
		if d.held {
			out = append(out, d.rel)
		}
	}
	sort.Strings(out)
	return out
}

func (ds *documents) stopTimers() {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for _, d := range ds.byURI {
		if d.timer != nil {
			d.timer.Stop()
			d.timer = nil
		}
	}
}

func (s *Server) didOpen(req *jsonrpc2.Request) error {
	var p protocol.DidOpenTextDocumentParams
	if err := unmarshal(req, &p); err != nil {
		return err
	}
	abs, rel, ok := repoPath(s.repoRoot(), p.TextDocument.URI)
	if !ok {
		return nil
	}
	d := &document{uri: p.TextDocument.URI, abs: abs, rel: rel, version: p.TextDocument.Version, text: p.TextDocument.Text, open: true, sent: -1}
	d.dirty = !matchesDisk(abs, d.text)
	s.docs.mu.Lock()
	if old := s.docs.byURI[d.uri]; old != nil {
		// Opened twice without a close: keep what the daemon holds.
		if old.timer != nil {
			old.timer.Stop()
		}
		d.held, d.sent = old.held, old.sent
	}
	s.docs.byURI[d.uri] = d
	d.gen++
	s.docs.mu.Unlock()
	if d.dirty || d.held {
		s.schedule(d, s.opts.Debounce)
	}
	return nil
}

func (s *Server) didChange(req *jsonrpc2.Request) error {
	var p protocol.DidChangeTextDocumentParams
	if err := unmarshal(req, &p); err != nil {
		return err
	}
	s.docs.mu.Lock()
	d := s.docs.byURI[p.TextDocument.URI]
	if d == nil {
		s.docs.mu.Unlock()
		return nil // not ours, or never opened
	}
	for _, ch := range p.ContentChanges {
		switch ch := ch.(type) {
		case protocol.TextDocumentContentChangeEvent:
			d.text = applyChange(d.text, ch.Range, ch.Text)
		case protocol.TextDocumentContentChangeEventWhole:
			d.text = ch.Text
		}
	}
	d.version = p.TextDocument.Version
	d.dirty = true
	d.gen++
	s.docs.mu.Unlock()
	s.schedule(d, s.opts.Debounce)
	return nil
}

func (s *Server) didSave(req *jsonrpc2.Request) error {
	var p struct {
		TextDocument protocol.TextDocumentIdentifier `json:"textDocument"`
		Text         *string                         `json:"text"`
	}
	if err := unmarshal(req, &p); err != nil {
		return err
	}
	s.docs.mu.Lock()
	d := s.docs.byURI[p.TextDocument.URI]
	if d == nil {
		s.docs.mu.Unlock()
		return nil
	}
	if p.Text != nil {
		d.text = *p.Text
	}
	text := d.text
	s.docs.mu.Unlock()
	// Saved: the buffer is dropped unless the editor still holds changes
	// the file lacks (a save hook rewrote it, or a partial save).
	dirty := !matchesDisk(d.abs, text)
	s.docs.mu.Lock()
	d.dirty = dirty
	d.gen++
	s.docs.mu.Unlock()
	s.schedule(d, 0)
	return nil
}

func (s *Server) didClose(req *jsonrpc2.Request) error {
	var p protocol.DidCloseTextDocumentParams
	if err := unmarshal(req, &p); err != nil {
		return err
	}
	s.docs.mu.Lock()
	d := s.docs.byURI[p.TextDocument.URI]
	if d != nil {
		delete(s.docs.byURI, d.uri)
		d.open = false
		d.gen++
	}
	s.docs.mu.Unlock()
	if d != nil {
		s.schedule(d, 0)
	}
	return nil
}

func matchesDisk(path, text string) bool {
	st, err := os.Stat(path)
	if err != nil || st.Size() != int64(len(text)) {
		return false
	}
	b, err := os.ReadFile(path)
	return err == nil && string(b) == text
}

// schedule sends d's state to the daemon after delay, replacing a pending
// send.
func (s *Server) schedule(d *document, delay time.Duration) {
	s.docs.mu.Lock()
	defer s.docs.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.timer = time.AfterFunc(delay, func() {
		s.docs.mu.Lock()
		d.timer = nil
		s.docs.mu.Unlock()
		s.spawn(func() { s.syncDoc(s.ctx, d, false) })
	})
}

// syncDoc brings the daemon's buffer for d to d's state: the text while it
// is open and differs from the file, no buffer otherwise. With wait it
// connects first; without, a missing connection defers the work to the
// connection's resync.
func (s *Server) syncDoc(ctx context.Context, d *document, wait bool) {
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	s.docs.mu.Lock()
	want, text, gen, held, sent := d.open && d.dirty, d.text, d.gen, d.held, d.sent
	s.docs.mu.Unlock()
	if gen == sent || (!want && !held) {
		return
	}
	c := s.currentClient()
	if c == nil && wait {
		c, _ = s.daemon(ctx)
	}
	if c == nil {
		s.spawn(func() { s.daemon(s.ctx) }) // resyncBuffers follows the connection
		return
	}
	ctx, cancel := context.WithTimeout(ctx, DaemonTimeout)
	defer cancel()
	var err error
	if want {
		err = c.UpdateBuffer(ctx, d.rel, text)
	} else {
		err = c.CloseBuffer(ctx, d.rel)
	}
	s.docs.mu.Lock()
	defer s.docs.mu.Unlock()
	if err != nil {
		if msg := err.Error(); msg != d.lastErr {
			d.lastErr = msg
			s.log.Warn("sending an editor buffer to the daemon", "path", d.rel, "error", err)
		}
		return
	}
	d.lastErr = ""
	d.held, d.sent = want, gen
	s.log.Debug("buffer synced", "path", d.rel, "held", want, "version", d.version)
}

// flushBuffers sends every pending buffer change now, so that a question
// sees the editor's latest text.
func (s *Server) flushBuffers(ctx context.Context) {
	s.docs.mu.Lock()
	var pending []*document
	for _, d := range s.docs.byURI {
		if d.gen != d.sent && (d.dirty || d.held) {
			if d.timer != nil {
				d.timer.Stop()
				d.timer = nil
			}
			pending = append(pending, d)
		}
	}
	s.docs.mu.Unlock()
	for _, d := range pending {
		s.syncDoc(ctx, d, true)
	}
}

// resyncBuffers hands every buffer to a new daemon connection.
func (s *Server) resyncBuffers() {
	s.docs.mu.Lock()
	var all []*document
	for _, d := range s.docs.byURI {
		// Send the wanted state again: the text of the changed ones, a
		// close for the others the daemon may still hold.
		d.sent = -1
		if d.dirty || d.held {
			all = append(all, d)
		}
	}
	s.docs.mu.Unlock()
	for _, d := range all {
		s.syncDoc(s.ctx, d, false)
	}
}
