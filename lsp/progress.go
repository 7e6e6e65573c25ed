package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/sourcegraph/jsonrpc2"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/api"
)

// Work-done progress ($/progress begin/report/end) for long work: the pack
// prefill percentage while a question waits for it, then "generating".

// progressParams is $/progress's params. Tokens stay raw JSON (a number
// or a string, echoed as the editor sent it).
type progressParams struct {
	Token json.RawMessage `json:"token"`
	Value any             `json:"value"`
}

// workDone reports one piece of work; a nil *workDone reports nothing.
type workDone struct {
	s     *Server
	token json.RawMessage
	key   string

	// stream: answer text goes out on the token too (answer commands
	// that replied before their answer; see command_job.go).
	stream bool

	mu         sync.Mutex
	lastPct    int
	generating bool
	ended      bool
}

// startProgress begins work-done progress on the editor's token, or, when
// create is set and the editor supports it, on a token created with
// window/workDoneProgress/create. cancel is what
// window/workDoneProgress/cancel calls.
func (s *Server) startProgress(ctx context.Context, token json.RawMessage, create bool, title string, cancel context.CancelFunc) *workDone {
	if len(token) == 0 || string(token) == "null" {
		s.mu.Lock()
		ok := create && s.caps.workDoneProgress
		s.nextToken++
		n := s.nextToken
		s.mu.Unlock()
		if !ok {
			return nil
		}
		token = json.RawMessage(fmt.Sprintf(`"lore-%d"`, n))
		if err := s.callClient(ctx, "window/workDoneProgress/create", map[string]json.RawMessage{"token": token}, nil); err != nil {
			s.log.Debug("window/workDoneProgress/create", "error", err)
			return nil
		}
	}
	w := &workDone{s: s, token: token, key: tokenKey(token), lastPct: -1}
	s.mu.Lock()
	s.progress[w.key] = cancel
	s.mu.Unlock()
	msg := "waiting for the lore daemon"
	s.notify("$/progress", progressParams{Token: token, Value: protocol.WorkDoneProgressBegin{
		Kind: "begin", Title: title, Cancellable: &protocol.True, Message: &msg,
	}})
	return w
}

// prefill reports a prefill's progress (api.Client's onProgress).
func (w *workDone) prefill(p api.Progress) {
	if w == nil || p.Total <= 0 {
		return
	}
	pct := min(100, max(0, p.Done*100/p.Total))
	w.mu.Lock()
	if w.ended || w.generating || pct <= w.lastPct {
		w.mu.Unlock()
		return
	}
	w.lastPct = pct
	w.mu.Unlock()
	msg := fmt.Sprintf("prefilling the repository: %d/%d tokens", p.Done, p.Total)
	u := protocol.UInteger(pct)
	w.s.notify("$/progress", progressParams{Token: w.token, Value: protocol.WorkDoneProgressReport{
		Kind: "report", Message: &msg, Percentage: &u,
	}})
}

// startGenerating reports that answer text is arriving (once).
func (w *workDone) startGenerating() {
	if w == nil {
		return
	}
	w.mu.Lock()
	if w.ended || w.generating {
		w.mu.Unlock()
		return
	}
	w.generating = true
	w.mu.Unlock()
	msg := "generating"
	w.s.notify("$/progress", progressParams{Token: w.token, Value: protocol.WorkDoneProgressReport{Kind: "report", Message: &msg}})
}

// answerReport is a $/progress report carrying answer text: the text
// generated since the previous one.
type answerReport struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// answerEnd is the $/progress end of an answer command that replied
// before its answer: the answer rides along.
type answerEnd struct {
	Kind    string     `json:"kind"`
	Message string     `json:"message"`
	Answer  *AskResult `json:"answer,omitempty"`
}

// text streams a chunk of answer text when the progress streams.
func (w *workDone) text(chunk string) {
	if w == nil || !w.stream {
		return
	}
	w.mu.Lock()
	ended := w.ended
	w.mu.Unlock()
	if !ended {
		w.s.notify("$/progress", progressParams{Token: w.token, Value: answerReport{Kind: "report", Text: chunk}})
	}
}

// end ends the progress with a closing message (once).
func (w *workDone) end(msg string) {
	w.endWith(msg, nil)
}

// endWith ends the progress with a closing message and, when the
// progress streams, the answer.
func (w *workDone) endWith(msg string, res *AskResult) {
	if w == nil {
		return
	}
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return
	}
	w.ended = true
	w.mu.Unlock()
	w.s.mu.Lock()
	delete(w.s.progress, w.key)
	w.s.mu.Unlock()
	if w.stream {
		w.s.notify("$/progress", progressParams{Token: w.token, Value: answerEnd{Kind: "end", Message: msg, Answer: res}})
		return
	}
	w.s.notify("$/progress", progressParams{Token: w.token, Value: protocol.WorkDoneProgressEnd{Kind: "end", Message: &msg}})
}

// cancelProgress serves window/workDoneProgress/cancel: the user pressed
// the progress' cancel button.
func (s *Server) cancelProgress(req *jsonrpc2.Request) error {
	var p struct {
		Token json.RawMessage `json:"token"`
	}
	if err := unmarshal(req, &p); err != nil {
		return err
	}
	s.mu.Lock()
	cancel := s.progress[tokenKey(p.Token)]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

// tokenKey is a progress token's compact JSON, to look it up by.
func tokenKey(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
