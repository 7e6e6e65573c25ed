// Package tiertest serves the larger tier's wire protocols on loopback for
// tests: OpenAI chat completions (SSE chunks, a usage chunk, [DONE]) and
// Anthropic Messages (message_start ... message_stop), each answer scripted
// in advance, every request recorded. It is the one stand-in the hand-off
// tests use: everything else in them is real.
package tiertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Reply is one scripted answer.
type Reply struct {
	Status int    // HTTP status; 0 = 200 with a stream
	Error  string // the error message of a non-200 reply
	Text   string // the streamed answer, sent in chunks of about 40 bytes
	// Usage reported at the end of the stream.
	Input, Cached, Output int64
	// Hold, when set, is closed after the first chunk; the stream then
	// waits for the client to go away (a cancellation mid-stream).
	Hold chan struct{}
	// Before, when set, runs when the request has arrived, before the
	// answer (a test changes the work tree during the generation).
	Before func()
}

// Recorded is one request the server received.
type Recorded struct {
	Path   string
	Header http.Header
	Body   []byte
}

// Server is a scripted provider on loopback.
type Server struct {
	URL string

	mu       sync.Mutex
	script   []Reply
	requests []Recorded
	t        testing.TB
	anth     bool
}

// OpenAI starts a chat-completions server answering with replies in order.
// Its URL ends in /v1, as tier.large.base_url for such servers does.
func OpenAI(t testing.TB, replies ...Reply) *Server { return start(t, false, replies) }

// Anthropic starts a Messages API server answering with replies in order.
func Anthropic(t testing.TB, replies ...Reply) *Server { return start(t, true, replies) }

func start(t testing.TB, anth bool, replies []Reply) *Server {
	s := &Server{script: replies, t: t, anth: anth}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	if !anth {
		s.URL += "/v1"
	}
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.requests...)
}

// Push appends replies to the script.
func (s *Server) Push(r ...Reply) {
	s.mu.Lock()
	s.script = append(s.script, r...)
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	want := "/v1/chat/completions"
	if s.anth {
		want = "/v1/messages"
	}
	s.mu.Lock()
	s.requests = append(s.requests, Recorded{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	var rep Reply
	ok := len(s.script) > 0
	if ok {
		rep, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if ok && rep.Before != nil {
		rep.Before()
	}
	if r.URL.Path != want {
		s.fail(w, 404, fmt.Sprintf("no route %s (want %s)", r.URL.Path, want))
		return
	}
	if !ok {
		s.t.Errorf("tiertest: request %d has no scripted reply", len(s.Requests()))
		s.fail(w, 500, "no scripted reply")
		return
	}
	if rep.Status != 0 && rep.Status != 200 {
		if rep.Status == 429 || rep.Status >= 500 {
			// Keep the SDK's backoff short in tests; it honours this.
			w.Header().Set("Retry-After-Ms", "5")
		}
		s.fail(w, rep.Status, rep.Error)
		return
	}
	var req struct {
		Stream bool `json:"stream"`
	}
	if json.Unmarshal(body, &req) != nil || !req.Stream {
		s.fail(w, 400, "tiertest speaks streams only; the request had no \"stream\": true")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	if s.anth {
		s.streamAnthropic(w, r, rep)
	} else {
		s.streamOpenAI(w, r, rep)
	}
}

func (s *Server) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var v any
	if s.anth {
		typ := map[int]string{400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
			404: "not_found_error", 429: "rate_limit_error", 529: "overloaded_error"}[status]
		if typ == "" {
			typ = "api_error"
		}
		v = map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}}
	} else {
		v = map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}}
	}
	_ = json.NewEncoder(w).Encode(v)
}

func chunks(text string) []string {
	var out []string
	for len(text) > 40 {
		out = append(out, text[:40])
		text = text[40:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

func send(w http.ResponseWriter, event string, v any) {
	b, _ := json.Marshal(v)
	if event != "" {
		fmt.Fprintf(w, "event: %s\n", event)
	}
	fmt.Fprintf(w, "data: %s\n\n", b)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func hold(r *http.Request, rep Reply, i int) bool {
	if rep.Hold != nil && i == 1 {
		close(rep.Hold)
		<-r.Context().Done()
		return true
	}
	return false
}

func (s *Server) streamOpenAI(w http.ResponseWriter, r *http.Request, rep Reply) {
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-tiertest", "object": "chat.completion.chunk", "created": 1765065600,
			"model": "tiertest", "choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	send(w, "", chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for i, c := range chunks(rep.Text) {
		if hold(r, rep, i) {
			return
		}
		send(w, "", chunk(map[string]any{"content": c}, nil))
	}
	send(w, "", chunk(map[string]any{}, "stop"))
	send(w, "", map[string]any{"id": "chatcmpl-tiertest", "object": "chat.completion.chunk", "created": 1765065600,
		"model": "tiertest", "choices": []any{}, "usage": map[string]any{"prompt_tokens": rep.Input,
			"completion_tokens": rep.Output, "total_tokens": rep.Input + rep.Output,
			"prompt_tokens_details": map[string]any{"cached_tokens": rep.Cached}}})
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func (s *Server) streamAnthropic(w http.ResponseWriter, r *http.Request, rep Reply) {
	send(w, "message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_tiertest", "type": "message", "role": "assistant", "content": []any{}, "model": "tiertest",
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": rep.Input - rep.Cached,
			"cache_creation_input_tokens": 0, "cache_read_input_tokens": rep.Cached, "output_tokens": 1}}})
	send(w, "content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]any{"type": "text", "text": ""}})
	send(w, "ping", map[string]any{"type": "ping"})
	for i, c := range chunks(rep.Text) {
		if hold(r, rep, i) {
			return
		}
		send(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": c}})
	}
	send(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	send(w, "message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": map[string]any{"output_tokens": rep.Output}})
	send(w, "message_stop", map[string]any{"type": "message_stop"})
}

// Contains reports whether any recorded request (headers or body) holds s.
func Contains(reqs []Recorded, s string) bool {
	for _, r := range reqs {
		if strings.Contains(string(r.Body), s) {
			return true
		}
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, s) {
					return true
				}
			}
		}
	}
	return false
}
