package lsp_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/api"
	"lore/internal/testenv"
	"lore/lsp"
)

// eglotParams are initialize's params from a client like eglot 1.9: no
// window.workDoneProgress, no window.showDocument, no settings.
func eglotParams(repo string, initOptions any) map[string]any {
	return map[string]any{
		"processId":             os.Getpid(),
		"rootUri":               uri(repo),
		"capabilities":          map[string]any{"workspace": map[string]any{"configuration": false}},
		"initializationOptions": initOptions,
	}
}

// replyNote marks, among the notifications an editor recorded, where the
// reply to a request of the method that follows it came.
const replyNote = "reply:"

// beforeReply returns the notifications on method (and token, when not
// empty) that came before the next reply to a request of reqMethod after
// the first skip notes.
func (e *editor) beforeReply(skip int, reqMethod, method, token string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, n := range e.notes[skip:] {
		if n.method == replyNote+reqMethod {
			return out
		}
		if n.method == method && (token == "" || strings.Contains(string(n.params), `"token":"`+token+`"`)) {
			out = append(out, string(n.params))
		}
	}
	e.t.Fatalf("no reply to %s was recorded", reqMethod)
	return nil
}

func (e *editor) noteCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.notes)
}

// messages are the showMessage and logMessage texts the editor got.
func (e *editor) messages() []string {
	var out []string
	for _, m := range []string{"window/showMessage", "window/logMessage"} {
		for _, raw := range e.notes_(m) {
			var p struct{ Message string }
			json.Unmarshal(raw, &p)
			out = append(out, p.Message)
		}
	}
	return out
}

func (e *editor) message(substr string) string {
	for _, m := range e.messages() {
		if strings.Contains(m, substr) {
			return m
		}
	}
	return ""
}

// TestLSPCommandsReplyAtOnce: a client that, like eglot, waits for a
// command's reply with the editor frozen and sends no work-done token and
// has no showDocument gets the reply of an ask on a cold daemon before
// anything of its answer (the daemon is still starting), and the answer
// afterwards as a message naming the rendered answer file. lore.cancel
// stops a running command in the daemon, and shutdown leaves nothing.
func TestLSPCommandsReplyAtOnce(t *testing.T) {
	setenv(t)
	bin := testenv.Binaries(t)
	repo := testenv.FixtureRepo(t)
	t.Cleanup(func() { stopDaemon(t, bin, repo) })
	e := startEditor(t, lsp.Options{LoreBinary: filepath.Join(bin, "lore")})

	if err := e.call("initialize", eglotParams(repo, map[string]any{"maxTokens": 8}), nil); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	e.notify("initialized", map[string]any{})

	alpha := filepath.Join(repo, "alpha", "alpha.go")
	var started lsp.CommandStarted
	skip := e.noteCount()
	if err := e.call("workspace/executeCommand", map[string]any{
		"command":   "lore.ask",
		"arguments": []any{lsp.CommandArgs{URI: uri(alpha), Range: ptr(rng(3, 0, 3, 0))}},
	}, &started); err != nil {
		t.Fatalf("lore.ask: %v", err)
	}
	// Nothing of the answer came before the reply: the reply did not wait
	// for the daemon.
	for _, m := range e.beforeReply(skip, "workspace/executeCommand", "window/showMessage", "") {
		if strings.Contains(m, "lore ask") {
			t.Fatalf("the answer (%s) came before the command's reply", m)
		}
	}
	if !started.Started || started.Command != "lore.ask" || started.Question != lsp.DefaultAskQuestion || len(started.Token) != 0 || started.DocumentURI == "" {
		t.Fatalf("lore.ask reply: %+v", started)
	}
	path := strings.TrimPrefix(started.DocumentURI, "file://")
	waitFor(t, "the answer's message", func() bool { return e.message("lore ask") != "" })
	msg := e.message("lore ask")
	if !strings.Contains(msg, path) {
		t.Errorf("the answer's message does not name the answer file %s: %q", path, msg)
	}
	doc, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(doc), "alpha/alpha.go") || !strings.Contains(string(doc), "generated") {
		t.Errorf("rendered answer (%v):\n%s", err, doc)
	}
	if len(e.requests("window/showDocument")) != 0 || len(e.requests("window/workDoneProgress/create")) != 0 {
		t.Error("the server used a capability the client does not have")
	}

	// With a work-done token the answer streams on it: text reports, then
	// the end carrying the whole answer.
	skip = e.noteCount()
	if err := e.call("workspace/executeCommand", map[string]any{
		"command":       "lore.ask",
		"arguments":     []any{lsp.CommandArgs{Question: "What is beta?"}},
		"workDoneToken": "w1",
	}, &started); err != nil || !started.Started || string(started.Token) != `"w1"` {
		t.Fatalf("lore.ask with a token: %v %+v", err, started)
	}
	if p := e.beforeReply(skip, "workspace/executeCommand", "$/progress", "w1"); len(p) != 0 {
		t.Fatalf("progress came before the reply: %s", p)
	}
	var end struct {
		Kind    string
		Message string
		Answer  *lsp.AskResult
	}
	var streamed strings.Builder
	waitFor(t, "the progress end", func() bool {
		streamed.Reset()
		for _, v := range progressOn(e, "w1") {
			var p struct {
				Kind, Text string
			}
			json.Unmarshal(v, &p)
			streamed.WriteString(p.Text)
			if p.Kind == "end" {
				json.Unmarshal(v, &end)
				return true
			}
		}
		return false
	})
	if end.Answer == nil || end.Answer.Text == "" || end.Answer.Text != streamed.String() || !strings.HasPrefix(end.Message, "answered") {
		t.Errorf("progress end %+v, streamed %q", end, streamed.String())
	}
	if end.Answer != nil && (end.Answer.DocumentURI == "" || end.Answer.DocumentURI != started.DocumentURI) {
		t.Errorf("the progress end names the answer file %q, the reply %q", end.Answer.DocumentURI, started.DocumentURI)
	}
	// Streamed to the client, the answer is not shown a second time.
	n := 0
	for _, m := range e.messages() {
		if strings.HasPrefix(m, "lore ask:") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d messages with an answer, want only the first ask's: %q", n, e.messages())
	}

	// A long answer, cancelled with lore.cancel while the daemon generates.
	e.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"lore": map[string]any{"maxTokens": 4000}}})
	if err := e.call("workspace/executeCommand", map[string]any{
		"command":   "lore.explain",
		"arguments": []any{lsp.CommandArgs{URI: uri(alpha), Range: ptr(rng(3, 0, 3, 0)), Question: "In great detail."}},
	}, &started); err != nil || !started.Started {
		t.Fatalf("lore.explain: %v %+v", err, started)
	}
	e.waitStatus("the question to run", time.Minute, func(st *api.Status) bool { return st.ActiveQuestions == 1 })
	var cancelled struct{ Cancelled int }
	if err := e.call("workspace/executeCommand", map[string]any{"command": "lore.cancel"}, &cancelled); err != nil || cancelled.Cancelled != 1 {
		t.Fatalf("lore.cancel: %v %+v", err, cancelled)
	}
	e.waitStatus("the cancelled question to leave the daemon", 10*time.Second, func(st *api.Status) bool { return st.ActiveQuestions == 0 })
	waitFor(t, "the cancellation's message", func() bool { return e.message("lore explain: cancelled") != "" })
	if m := e.message("lore explain:"); m != "lore explain: cancelled" {
		t.Errorf("a cancelled command showed %q", m)
	}

	// Shutdown while a command runs: it is cancelled, nothing outlives it.
	if err := e.call("workspace/executeCommand", map[string]any{"command": "lore.plan"}, &started); err != nil || !started.Started {
		t.Fatalf("lore.plan: %v %+v", err, started)
	}
	e.exit(0, true)
}

// progressOn returns the values of the $/progress notifications on token.
func progressOn(e *editor, token string) []json.RawMessage {
	var out []json.RawMessage
	for _, raw := range e.notes_("$/progress") {
		var p struct {
			Token any
			Value json.RawMessage
		}
		json.Unmarshal(raw, &p)
		if p.Token == token {
			out = append(out, p.Value)
		}
	}
	return out
}
