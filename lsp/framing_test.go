package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/config"
)

func frame(body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

func request(id int, method, params string) string {
	if params == "" {
		params = "{}"
	}
	return frame(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, params))
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}`

// reply is what the tests read back: a response or a notification.
type reply struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *jsonrpc2.Error `json:"error"`
}

// parseOutput splits the server's output into messages; every frame must
// be well formed and hold one JSON object.
func parseOutput(t testing.TB, out []byte) []reply {
	t.Helper()
	st := newStream(bytes.NewReader(out), io.Discard, nil, 0)
	var msgs []reply
	for {
		body, err := st.readFrame()
		if errors.Is(err, io.EOF) {
			return msgs
		}
		if err != nil {
			t.Fatalf("the server wrote a bad frame: %v\n%q", err, out)
		}
		var m reply
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("the server wrote invalid JSON %q: %v", body, err)
		}
		if !bytes.Contains(body, []byte(`"jsonrpc":"2.0"`)) {
			t.Fatalf("the server's message lacks jsonrpc 2.0: %s", body)
		}
		msgs = append(msgs, m)
	}
}

// runServer serves input (no daemon: NoStart, a private runtime folder)
// and returns its exit code and output.
func runServer(t testing.TB, input string, opts Options) (int, []byte) {
	t.Helper()
	if opts.Root == "" {
		opts.Root = t.TempDir()
	}
	opts.NoStart = true
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := Serve(ctx, strings.NewReader(input), &out, opts)
	if ctx.Err() != nil {
		t.Fatalf("the server did not end at the end of its input")
	}
	return code, out.Bytes()
}

func isolate(t *testing.T) {
	t.Setenv(config.EnvRuntime, t.TempDir())
	t.Setenv(config.EnvStateDir, t.TempDir())
}

// TestLSPFramingErrors feeds one session every kind of bad input; each is
// answered with the right JSON-RPC error and the session goes on.
func TestLSPFramingErrors(t *testing.T) {
	isolate(t)
	big := fmt.Sprintf(`{"jsonrpc":"2.0","id":7,"method":"lore/ask","params":{"question":%q}}`, strings.Repeat("x", 3000))
	steps := []struct {
		name  string
		input string
		want  []string // per reply: "id:code" (code 0 = result)
	}{
		{"before initialize", request(50, "textDocument/codeAction", ""), []string{"50:-32002"}},
		{"initialize", frame(initialize), []string{"1:0"}},
		{"initialize twice", frame(initialize), []string{"1:-32600"}},
		{"junk before a header", "garbage\r\n" + request(3, "nope/nope", ""), []string{"null:-32700", "3:-32601"}},
		{"invalid JSON", frame(`{"jsonrpc":"2.0","id":2,`), []string{"null:-32700"}},
		{"not JSON at all", frame(`hello`), []string{"null:-32700"}},
		{"no Content-Length", "Content-Type: application/json\r\n\r\n{}" + request(4, "nope/nope", ""), []string{"null:-32700", "4:-32601"}},
		{"invalid Content-Length", "Content-Length: abc\r\n\r\n{}" + request(5, "nope/nope", ""), []string{"null:-32700", "5:-32601"}},
		{"negative Content-Length", "Content-Length: -4\r\n\r\n{}" + request(5, "nope/nope", ""), []string{"null:-32700", "5:-32601"}},
		{"header without colon", "Content-Length 12\r\n\r\n{}" + request(6, "nope/nope", ""), []string{"null:-32700", "6:-32601"}},
		{"Content-Length too short", "Content-Length: 10\r\n\r\n" + `{"jsonrpc":"2.0","id":8,"method":"nope/nope"}` + request(9, "nope/nope", ""), []string{"null:-32700", "9:-32601"}},
		{"Content-Length too long", "Content-Length: 60\r\n\r\n" + `{"jsonrpc":"2.0","id":10,"method":"nope/nope"}` + request(11, "nope/nope", "") + request(12, "nope/nope", ""), []string{"null:-32700", "12:-32601"}},
		{"oversized", frame(big) + request(13, "nope/nope", ""), []string{"7:-32600", "13:-32601"}},
		{"not a message", frame(`{"foo":1}`), []string{"null:-32600"}},
		{"batch", frame(`[1,2]`), []string{"null:-32600"}},
		{"method not a string", frame(`{"jsonrpc":"2.0","id":14,"method":5}`), []string{"14:-32600"}},
		{"unknown method", request(15, "textDocument/definition", ""), []string{"15:-32601"}},
		{"unknown notification", frame(`{"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"off"}}`), nil},
		{"invalid params", request(16, "textDocument/codeAction", `"x"`), []string{"16:-32602"}},
		{"params missing", frame(`{"jsonrpc":"2.0","id":17,"method":"textDocument/codeAction"}`), []string{"17:-32602"}},
		{"bad command argument", request(18, "workspace/executeCommand", `{"command":"lore.ask","arguments":[5]}`), []string{"18:-32602"}},
		{"unknown command", request(19, "workspace/executeCommand", `{"command":"lore.nope"}`), []string{"19:-32602"}},
		{"shutdown", request(20, "shutdown", "null"), []string{"20:0"}},
		{"after shutdown", request(21, "textDocument/codeAction", ""), []string{"21:-32600"}},
	}
	var input strings.Builder
	var want []string
	for _, s := range steps {
		input.WriteString(s.input)
		want = append(want, s.want...)
	}
	input.WriteString(frame(`{"jsonrpc":"2.0","method":"exit"}`))
	code, out := runServer(t, input.String(), Options{MaxMessageSize: 2048})
	if code != 0 {
		t.Errorf("exit after shutdown: code %d, want 0", code)
	}
	var got []string
	for _, m := range parseOutput(t, out) {
		if m.Method != "" {
			continue // notifications (log messages) are not counted
		}
		code := int64(0)
		if m.Error != nil {
			code = m.Error.Code
		}
		got = append(got, fmt.Sprintf("%s:%d", m.ID, code))
	}
	// Asynchronous handlers (executeCommand) may answer out of order, but
	// before shutdown's answer.
	if idx(got, "20:0") < max(idx(got, "18:-32602"), idx(got, "19:-32602")) {
		t.Errorf("shutdown was answered before the requests sent before it: %v", got)
	}
	slices.Sort(got)
	slices.Sort(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("replies:\n got %v\nwant %v\noutput:\n%s", got, want, out)
	}
}

// TestLSPOversizedMessage sends a message over the default 16 MiB limit:
// it is answered with InvalidRequest and its id, and the session goes on.
func TestLSPOversizedMessage(t *testing.T) {
	isolate(t)
	big := `{"jsonrpc":"2.0","id":9,"method":"lore/ask","params":{"question":"` + strings.Repeat("x", MaxMessageSize) + `"}}`
	code, out := runServer(t, frame(initialize)+frame(big)+request(10, "shutdown", "")+frame(`{"jsonrpc":"2.0","method":"exit"}`), Options{})
	var got []string
	for _, m := range parseOutput(t, out) {
		if m.Error != nil {
			got = append(got, fmt.Sprintf("%s:%d", m.ID, m.Error.Code))
		} else if m.Method == "" {
			got = append(got, fmt.Sprintf("%s:0", m.ID))
		}
	}
	if code != 0 || strings.Join(got, " ") != "1:0 9:-32600 10:0" {
		t.Errorf("exit %d, replies %v", code, got)
	}
}

func TestLSPExitWithoutShutdown(t *testing.T) {
	isolate(t)
	code, _ := runServer(t, frame(initialize)+frame(`{"jsonrpc":"2.0","method":"exit"}`), Options{})
	if code != 1 {
		t.Errorf("exit without shutdown: code %d, want 1", code)
	}
	// The end of the input ends the session cleanly.
	if code, _ := runServer(t, frame(initialize), Options{}); code != 0 {
		t.Errorf("end of input: code %d, want 0", code)
	}
}

// FuzzLSPFraming runs a server session on arbitrary input: it must not
// panic or hang, and all it writes must be well-formed LSP frames.
func FuzzLSPFraming(f *testing.F) {
	seeds := []string{
		"",
		frame(initialize),
		frame(initialize) + request(2, "textDocument/codeAction", `{"textDocument":{"uri":"file:///x/a.go"},"range":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}},"context":{"diagnostics":[]}}`),
		frame(initialize) + request(2, "shutdown", "") + frame(`{"jsonrpc":"2.0","method":"exit"}`),
		"Content-Length: 5\r\n\r\n{abc}",
		"Content-Length: 99999999999999999999\r\n\r\n{}",
		"Content-Length: 3\r\nContent-Length: 3\r\n\r\n{}}",
		"Content-Length: 10\r\n\r\n" + `{"jsonrpc":"2.0","id":8,"method":"x"}`,
		"Content-Type: a\r\n\r\n",
		"\r\n\r\nContent-",
		"Content-Length:2\n\n{}",
		frame(`{"jsonrpc":"2.0","id":"s","method":"initialize","params":null}`),
		frame(`[{"jsonrpc":"2.0","id":1,"method":"a"}]`),
		frame(`{"jsonrpc":"2.0","id":1.5,"method":"a"}`),
		frame(`{"jsonrpc":"2.0","result":1,"id":99}`),
		frame(initialize) + frame(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///x/a.go","languageId":"go","version":1,"text":"package a\n"}}}`) +
			frame(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///x/a.go","version":2},"contentChanges":[{"range":{"start":{"line":9,"character":99},"end":{"line":0,"character":3}},"text":"ü😀"}]}}`),
		frame(initialize) + request(3, "$/cancelRequest", `{"id":3}`) + frame(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"x"}}`),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		Serve(ctx, bytes.NewReader(data), &out, Options{Root: dir, NoStart: true, MaxMessageSize: 1 << 10, AnswerDir: dir})
		if ctx.Err() != nil {
			t.Fatalf("the session did not end with its input")
		}
		parseOutput(t, out.Bytes())
	})
}

func TestLSPPositions(t *testing.T) {
	text := "ab😀c\nsecond ü line\r\nthird"
	for _, tc := range []struct {
		line, char int
		want       int
	}{
		{0, 0, 0}, {0, 2, 2}, {0, 3, 2}, {0, 4, 6}, {0, 5, 7}, {0, 99, 7},
		{1, 0, 8}, {1, 8, 17}, {1, 99, 22}, {2, 2, 26}, {5, 0, len(text)},
	} {
		got := offset(text, posOf(tc.line, tc.char))
		if got != tc.want {
			t.Errorf("offset(%d:%d) = %d, want %d", tc.line, tc.char, got, tc.want)
		}
	}
	r := rangeOf(0, 4, 1, 6)
	if got := applyChange(text, &r, "X"); got != "ab😀X ü line\r\nthird" {
		t.Errorf("applyChange: %q", got)
	}
	if w := wordAt("foo.BarBaz(x)", posOf(0, 6)); w != "BarBaz" {
		t.Errorf("wordAt: %q", w)
	}
	span, first, last := lineSpan("a\nb\nc\n", -3, 1)
	if span != "a\nb\n" || first != 0 || last != 1 {
		t.Errorf("lineSpan: %q %d %d", span, first, last)
	}
}

func posOf(line, char int) protocol.Position {
	return protocol.Position{Line: protocol.UInteger(line), Character: protocol.UInteger(char)}
}

func rangeOf(l1, c1, l2, c2 int) protocol.Range {
	return protocol.Range{Start: posOf(l1, c1), End: posOf(l2, c2)}
}

func idx(list []string, s string) int { return slices.Index(list, s) }
