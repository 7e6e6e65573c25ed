package lsp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/api"
	"lore/internal/testenv"
	"lore/lsp"
)

// These tests drive the LSP server as an editor does, over a pipe with
// LSP's framing, against a real daemon (started by the server itself) on
// the tiny model and a fixture repository.

// editor is the test's LSP client: it records what the server sends and
// answers its requests as VS Code does.
type editor struct {
	t      *testing.T
	c      *lsp.Client
	code   chan int
	mu     sync.Mutex
	notes  []note
	reqs   []note
	config json.RawMessage
}

type note struct {
	method string
	params json.RawMessage
}

func (e *editor) notes_(method string) []json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []json.RawMessage
	for _, n := range e.notes {
		if n.method == method {
			out = append(out, n.params)
		}
	}
	return out
}

func (e *editor) requests(method string) []json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []json.RawMessage
	for _, n := range e.reqs {
		if n.method == method {
			out = append(out, n.params)
		}
	}
	return out
}

// setenv moves testenv's private daemon environment into this process,
// which the in-process server and the daemon it starts inherit.
func setenv(t *testing.T) {
	for _, kv := range testenv.Env(t) {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "LORE_") {
			t.Setenv(k, v)
		}
	}
}

func startEditor(t *testing.T, opts lsp.Options) *editor {
	t.Helper()
	sr, cw := io.Pipe() // editor → server
	cr, sw := io.Pipe() // server → editor
	e := &editor{t: t, code: make(chan int, 1), config: json.RawMessage(`{"maxTokens": 8}`)}
	go func() { e.code <- lsp.Serve(context.Background(), sr, sw, opts) }()
	e.c = lsp.NewClient(lsp.ReadWriteCloser{Reader: cr, WriteCloser: cw})
	e.c.OnNotify = func(method string, params json.RawMessage) {
		e.mu.Lock()
		e.notes = append(e.notes, note{method, params})
		e.mu.Unlock()
	}
	e.c.OnResponse = func(method string) {
		e.mu.Lock()
		e.notes = append(e.notes, note{replyNote + method, nil})
		e.mu.Unlock()
	}
	e.c.OnRequest = func(method string, params json.RawMessage) (any, error) {
		e.mu.Lock()
		e.reqs = append(e.reqs, note{method, params})
		cfg := e.config
		e.mu.Unlock()
		switch method {
		case "workspace/configuration":
			return []json.RawMessage{cfg}, nil
		case "window/showDocument":
			return map[string]bool{"success": true}, nil
		case "workspace/applyEdit":
			return map[string]any{"applied": true}, nil
		}
		return nil, nil
	}
	t.Cleanup(func() { e.c.Close() })
	return e
}

func (e *editor) call(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return e.c.Call(ctx, method, params, result)
}

func (e *editor) notify(method string, params any) {
	e.t.Helper()
	if err := e.c.Notify(context.Background(), method, params); err != nil {
		e.t.Fatal(err)
	}
}

func (e *editor) status() *api.Status {
	e.t.Helper()
	var st api.Status
	if err := e.call(lsp.MethodStatus, nil, &st); err != nil {
		e.t.Fatalf("lore/status: %v", err)
	}
	return &st
}

// waitStatus polls lore/status until ok holds.
func (e *editor) waitStatus(what string, timeout time.Duration, ok func(*api.Status) bool) *api.Status {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := e.status()
		if ok(st) {
			return st
		}
		if st.State == api.StateFailed {
			e.t.Fatalf("daemon failed: %s", st.Error)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; status: %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exit shuts the session down and checks that the server leaves nothing
// running.
func (e *editor) exit(wantCode int, shutdown bool) {
	e.t.Helper()
	if shutdown {
		if err := e.call("shutdown", nil, nil); err != nil {
			e.t.Fatalf("shutdown: %v", err)
		}
	}
	e.notify("exit", nil)
	select {
	case code := <-e.code:
		if code != wantCode {
			e.t.Errorf("exit code %d, want %d", code, wantCode)
		}
	case <-time.After(30 * time.Second):
		e.t.Fatal("the server did not exit")
	}
	e.c.Close()
	checkNoLeaks(e.t)
}

// checkNoLeaks fails when goroutines of the server or of its daemon
// clients outlive the session.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	var stacks string
	for i := 0; i < 100; i++ {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		leaked := false
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "lore/lsp.(*Server)") || strings.Contains(g, "lore/api.(*Client)") {
				leaked = true
			}
		}
		if !leaked {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("goroutines outlive the session:\n%s", stacks)
}

func stopDaemon(t *testing.T, bin, repo string) {
	out, err := exec.Command(filepath.Join(bin, "lore"), "stop", "--repo", repo).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "no lore daemon") {
		t.Logf("lore stop: %v\n%s", err, out)
	}
}

func uri(path string) string { return "file://" + filepath.ToSlash(path) }

func rng(l1, c1, l2, c2 int) protocol.Range {
	return protocol.Range{
		Start: protocol.Position{Line: protocol.UInteger(l1), Character: protocol.UInteger(c1)},
		End:   protocol.Position{Line: protocol.UInteger(l2), Character: protocol.UInteger(c2)},
	}
}

func initParams(repo string, initOptions any) map[string]any {
	return map[string]any{
		"processId": os.Getpid(),
		"rootUri":   uri(repo),
		"capabilities": map[string]any{
			"window":    map[string]any{"workDoneProgress": true, "showDocument": map[string]any{"support": true}},
			"workspace": map[string]any{"configuration": true},
		},
		"initializationOptions": initOptions,
	}
}

// TestLSPEndToEnd is an editor session as VS Code's extension runs it
// (commands answered in their reply): initialize (at once, before any
// daemon), code actions, an unsaved buffer reaching the pack, lore/ask
// with streamed partial results, the commands with progress and
// showDocument, cancellation, and shutdown.
func TestLSPEndToEnd(t *testing.T) {
	setenv(t)
	bin := testenv.Binaries(t)
	repo := testenv.FixtureRepo(t)
	t.Cleanup(func() { stopDaemon(t, bin, repo) })
	e := startEditor(t, lsp.Options{LoreBinary: filepath.Join(bin, "lore"), Debounce: 20 * time.Millisecond})

	// initialize answers at once: no daemon runs yet.
	start := time.Now()
	var init struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
	}
	if err := e.call("initialize", initParams(repo, map[string]any{"maxTokens": 8, "showAnswers": "document", "commandReply": "answer"}), &init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("initialize took %s", d)
	}
	for _, k := range []string{"textDocumentSync", "codeActionProvider", "executeCommandProvider"} {
		if _, ok := init.Capabilities[k]; !ok {
			t.Errorf("capabilities lack %s: %v", k, init.Capabilities)
		}
	}
	if _, ok := init.Capabilities["hoverProvider"]; ok {
		t.Error("hoverProvider advertised with the hover setting off")
	}
	if !strings.Contains(string(init.Capabilities["executeCommandProvider"]), `"lore.summarizeChanges"`) {
		t.Errorf("executeCommandProvider: %s", init.Capabilities["executeCommandProvider"])
	}
	e.notify("initialized", map[string]any{})

	// Code actions come without the daemon.
	alpha := filepath.Join(repo, "alpha", "alpha.go")
	start = time.Now()
	var actions []struct {
		Title   string `json:"title"`
		Kind    string `json:"kind"`
		Command struct {
			Command   string            `json:"command"`
			Arguments []lsp.CommandArgs `json:"arguments"`
		} `json:"command"`
	}
	if err := e.call("textDocument/codeAction", map[string]any{
		"textDocument": map[string]any{"uri": uri(alpha)},
		"range":        rng(2, 0, 5, 0),
		"context":      map[string]any{"diagnostics": []any{}},
	}, &actions); err != nil {
		t.Fatalf("codeAction: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("codeAction took %s", d)
	}
	var cmds []string
	for _, a := range actions {
		cmds = append(cmds, a.Command.Command)
		if len(a.Command.Arguments) != 1 || a.Command.Arguments[0].URI != uri(alpha) || a.Command.Arguments[0].Range == nil || a.Kind != "lore" {
			t.Errorf("code action %+v", a)
		}
	}
	if strings.Join(cmds, ",") != "lore.ask,lore.explain,lore.plan" {
		t.Errorf("code actions: %v", cmds)
	}
	// workspace/configuration was pulled after initialized.
	waitFor(t, "workspace/configuration", func() bool { return len(e.requests("workspace/configuration")) > 0 })
	if got := e.requests("workspace/configuration"); !strings.Contains(string(got[0]), `"section":"lore"`) {
		t.Errorf("workspace/configuration requests: %s", got)
	}

	st := e.waitStatus("the daemon to be ready", 2*time.Minute, func(st *api.Status) bool { return st.State == api.StateReady })
	if st.Buffers != 0 {
		t.Fatalf("buffers before any edit: %d", st.Buffers)
	}

	// lore/ask streams partial results that add up to the answer.
	var mu sync.Mutex
	var chunks []string
	res, err := e.c.Ask(context.Background(), lsp.AskParams{Question: "What does Alpha do?", MaxTokens: 8}, func(s string) {
		mu.Lock()
		chunks = append(chunks, s)
		mu.Unlock()
	})
	if err != nil {
		t.Fatalf("lore/ask: %v", err)
	}
	if res.GeneratedTokens == 0 || res.PackVersion == "" || res.Text == "" {
		t.Fatalf("lore/ask result: %+v", res)
	}
	if got := strings.Join(chunks, ""); got != res.Text || len(chunks) == 0 {
		t.Errorf("partial results %q (%d chunks) != text %q", got, len(chunks), res.Text)
	}
	before := res.PackVersion

	// An unsaved buffer reaches the daemon and its pack.
	edited := "package alpha\n\n// Alpha greets loudly.\nfunc Alpha(name string) string {\n\treturn \"HELLO \" + name\n}\n"
	e.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri(alpha), "languageId": "go", "version": 1, "text": edited}})
	e.waitStatus("the buffer", 30*time.Second, func(st *api.Status) bool { return st.Buffers == 1 })
	// An incremental change on top.
	e.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri(alpha), "version": 2},
		"contentChanges": []any{map[string]any{"range": rng(4, 9, 4, 14), "text": "HOWDY"}},
	})
	res, err = e.c.Ask(context.Background(), lsp.AskParams{
		Question: "What does this return?", MaxTokens: 8,
		TextDocument: &lsp.TextDocument{URI: uri(alpha)}, Range: ptr(rng(4, 0, 5, 0)),
	}, nil)
	if err != nil {
		t.Fatalf("lore/ask with a location: %v", err)
	}
	if res.PackVersion == before {
		t.Errorf("the pack version did not change with the unsaved buffer (%s)", before)
	}

	// The commands: lore.ask with created progress and showDocument.
	var cres lsp.AskResult
	if err := e.call("workspace/executeCommand", map[string]any{
		"command":   "lore.ask",
		"arguments": []any{lsp.CommandArgs{URI: uri(alpha), Range: ptr(rng(3, 0, 3, 0))}},
	}, &cres); err != nil {
		t.Fatalf("lore.ask: %v", err)
	}
	if cres.Question != lsp.DefaultAskQuestion || cres.GeneratedTokens == 0 || cres.GeneratedTokens > 8 || cres.DocumentURI == "" {
		t.Errorf("lore.ask result: %+v", cres)
	}
	doc, err := os.ReadFile(strings.TrimPrefix(cres.DocumentURI, "file://"))
	if err != nil || !strings.Contains(string(doc), strings.TrimSpace(cres.Text)) || !strings.Contains(string(doc), "alpha/alpha.go") {
		t.Errorf("rendered answer (%v):\n%s", err, doc)
	}
	if len(e.requests("window/workDoneProgress/create")) == 0 {
		t.Error("no window/workDoneProgress/create")
	}
	waitFor(t, "window/showDocument", func() bool { return len(e.requests("window/showDocument")) > 0 })
	kinds := progressKinds(e.notes_("$/progress"))
	if !strings.HasPrefix(kinds, "begin") || !strings.HasSuffix(kinds, "end") || !strings.Contains(kinds, "generating") {
		t.Errorf("$/progress sequence: %s", kinds)
	}

	var pres lsp.AskResult
	if err := e.call("workspace/executeCommand", map[string]any{
		"command":   "lore.plan",
		"arguments": []any{lsp.CommandArgs{URI: uri(alpha), Range: ptr(rng(3, 0, 3, 0)), Question: "Add a Farewell function"}},
	}, &pres); err != nil {
		t.Fatalf("lore.plan: %v", err)
	}
	if pres.Session != lsp.DefaultPlanSession || pres.SessionTurn != 1 {
		t.Errorf("lore.plan did not continue the %q session: %+v", lsp.DefaultPlanSession, pres)
	}

	var sst api.Status
	if err := e.call("workspace/executeCommand", map[string]any{"command": "lore.status"}, &sst); err != nil || sst.State != api.StateReady {
		t.Errorf("lore.status: %v %+v", err, sst)
	}

	// summarizeChanges asks about git diff HEAD.
	if err := os.WriteFile(filepath.Join(repo, "beta", "beta.go"), []byte("package beta\n\n// Beta subtracts now.\nfunc Beta(a, b int) int {\n\treturn a - b\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var sres lsp.AskResult
	if err := e.call("workspace/executeCommand", map[string]any{"command": "lore.summarizeChanges"}, &sres); err != nil {
		t.Fatalf("lore.summarizeChanges: %v", err)
	}
	if sres.GeneratedTokens == 0 {
		t.Errorf("lore.summarizeChanges: %+v", sres)
	}

	// Cancellation: $/cancelRequest ends the question and frees the daemon.
	ctx, cancel := context.WithCancel(context.Background())
	_, err = e.c.Ask(ctx, lsp.AskParams{Question: "Explain everything in detail", MaxTokens: 4000}, func(string) { cancel() })
	var rerr *jsonrpc2.Error
	if !errors.As(err, &rerr) || rerr.Code != lsp.CodeRequestCancelled {
		t.Fatalf("cancelled lore/ask: %v, want a RequestCancelled (-32800) error", err)
	}
	e.waitStatus("the cancelled question to leave", 10*time.Second, func(st *api.Status) bool { return st.ActiveQuestions == 0 })

	// Saving the document (the file now holds the editor's text) drops
	// the buffer; closing it leaves none.
	saved := strings.Replace(edited, "HELLO", "HOWDY", 1)
	if err := os.WriteFile(alpha, []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	e.notify("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": uri(alpha)}, "text": saved})
	e.waitStatus("the buffer to close on save", 30*time.Second, func(st *api.Status) bool { return st.Buffers == 0 })
	e.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri(filepath.Join(repo, "README.md")), "languageId": "markdown", "version": 1, "text": "# changed\n"}})
	e.waitStatus("a second buffer", 30*time.Second, func(st *api.Status) bool { return st.Buffers == 1 })
	e.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri(alpha)}})
	e.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri(filepath.Join(repo, "README.md"))}})
	e.waitStatus("the buffers to close", 30*time.Second, func(st *api.Status) bool { return st.Buffers == 0 })

	e.exit(0, true)
}

// TestLSPHoverAndExit: hover is advertised and answers with the setting
// on; exit without shutdown is code 1 and leaves no buffer in the daemon.
func TestLSPHoverAndExit(t *testing.T) {
	setenv(t)
	bin := testenv.Binaries(t)
	repo := testenv.FixtureRepo(t)
	t.Cleanup(func() { stopDaemon(t, bin, repo) })
	e := startEditor(t, lsp.Options{LoreBinary: filepath.Join(bin, "lore")})
	var init struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
	}
	if err := e.call("initialize", initParams(repo, map[string]any{"lore": map[string]any{"hover": true, "maxTokens": 6}}), &init); err != nil {
		t.Fatal(err)
	}
	if string(init.Capabilities["hoverProvider"]) != "true" {
		t.Fatalf("hoverProvider: %s", init.Capabilities["hoverProvider"])
	}
	e.notify("initialized", map[string]any{})
	var h struct {
		Contents protocol.MarkupContent `json:"contents"`
	}
	if err := e.call("textDocument/hover", map[string]any{
		"textDocument": map[string]any{"uri": uri(filepath.Join(repo, "beta", "beta.go"))},
		"position":     map[string]any{"line": 3, "character": 6},
	}, &h); err != nil {
		t.Fatalf("hover: %v", err)
	}
	if h.Contents.Kind != "markdown" || !strings.Contains(h.Contents.Value, "`Beta`") {
		t.Errorf("hover: %+v", h)
	}
	// An unsaved buffer is handed back when the session ends, even without
	// shutdown.
	e.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri(filepath.Join(repo, "README.md")), "languageId": "markdown", "version": 1, "text": "# unsaved\n"}})
	e.waitStatus("the buffer", 30*time.Second, func(st *api.Status) bool { return st.Buffers == 1 })
	e.exit(1, false) // exit without shutdown
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := api.Connect(ctx, repo, api.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Buffers != 0 {
		t.Errorf("%d buffers left in the daemon after the session", st.Buffers)
	}
}

func ptr[T any](v T) *T { return &v }

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// progressKinds summarizes work-done notifications: begin, report
// messages, end.
func progressKinds(notes []json.RawMessage) string {
	var out []string
	for _, n := range notes {
		var p struct {
			Value struct {
				Kind    string `json:"kind"`
				Message string `json:"message"`
			} `json:"value"`
		}
		json.Unmarshal(n, &p)
		switch p.Value.Kind {
		case "report":
			out = append(out, "report:"+p.Value.Message)
		case "":
		default:
			out = append(out, p.Value.Kind)
		}
	}
	return strings.Join(out, ",")
}
