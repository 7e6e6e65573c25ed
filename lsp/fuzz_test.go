package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// FuzzLSPMessages sends one initialized session a well-framed request and
// notification of any method with any params, after a document is open:
// the server must not panic or hang, must write well-formed frames, and
// must answer the request exactly once. FuzzLSPFraming covers the frames
// themselves. Longer runs:
//
//	go test -run '^$' -fuzz '^FuzzLSPMessages$' -fuzztime 10m ./lsp/
func FuzzLSPMessages(f *testing.F) {
	pos := `{"textDocument":{"uri":"file:///x/a.go"},"position":{"line":1,"character":3}}`
	for _, s := range []struct{ method, params string }{
		{"textDocument/hover", pos},
		{"textDocument/hover", `{"textDocument":{"uri":"file:///x/a.go"},"position":{"line":-1,"character":99999999999}}`},
		{"textDocument/codeAction", `{"textDocument":{"uri":"file:///x/a.go"},"range":{"start":{"line":3,"character":0},"end":{"line":0,"character":2}},"context":{"diagnostics":[]}}`},
		{"textDocument/didChange", `{"textDocument":{"uri":"file:///x/a.go","version":2},"contentChanges":[{"range":{"start":{"line":0,"character":1},"end":{"line":0,"character":4}},"text":"ü😀\r\n"}]}`},
		{"textDocument/didClose", `{"textDocument":{"uri":"file:///x/a.go"}}`},
		{"workspace/executeCommand", `{"command":"lore.explain","arguments":[{"uri":"file:///x/a.go","range":{"start":{"line":0,"character":0},"end":{"line":9,"character":0}}}]}`},
		{"workspace/executeCommand", `{"command":"lore.nope","arguments":null}`},
		{"workspace/didChangeConfiguration", `{"settings":{"lore":{"maxTokens":-3}}}`},
		{"lore/ask", `{"question":"why?","maxTokens":-1}`},
		{"lore/status", `null`},
		{"$/cancelRequest", `{"id":2}`},
		{"initialize", `{}`},
		{"shutdown", `[]`},
	} {
		f.Add(s.method, []byte(s.params))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, method string, params []byte) {
		if method == "exit" {
			return // ends the session before the request is answered, as it should
		}
		if !json.Valid(params) {
			params, _ = json.Marshal(string(params))
		}
		m, _ := json.Marshal(method)
		var in bytes.Buffer
		in.WriteString(frame(initialize))
		in.WriteString(frame(`{"jsonrpc":"2.0","method":"initialized","params":{}}`))
		in.WriteString(frame(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///x/a.go","languageId":"go","version":1,"text":"package a\n\nfunc A() {}\n"}}}`))
		in.WriteString(frame(fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":%s,"params":%s}`, m, params)))
		in.WriteString(frame(fmt.Sprintf(`{"jsonrpc":"2.0","method":%s,"params":%s}`, m, params)))
		in.WriteString(frame(`{"jsonrpc":"2.0","id":3,"method":"shutdown"}`))
		in.WriteString(frame(`{"jsonrpc":"2.0","method":"exit"}`))
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		Serve(ctx, &in, &out, Options{Root: dir, NoStart: true, AnswerDir: dir, Debounce: time.Millisecond})
		if ctx.Err() != nil {
			t.Fatalf("the session did not end with its input")
		}
		answers := 0
		for _, r := range parseOutput(t, out.Bytes()) {
			if r.Method == "" && string(r.ID) == strconv.Itoa(2) {
				answers++
			}
		}
		if answers != 1 {
			t.Fatalf("request %s %s answered %d times:\n%s", method, params, answers, out.Bytes())
		}
	})
}
