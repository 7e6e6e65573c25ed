package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
	"lore/internal/testenv"
)

// wireReply is a JSON-RPC response as it comes off the socket.
type wireReply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *jsonrpc2.Error `json:"error"`
}

// TestSocketBadMessages: what is not a well-formed request of a sensible
// size is answered with its JSON-RPC error, and the connection goes on.
func TestSocketBadMessages(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	d.ready(t)
	nc, err := net.Dial("unix", e.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	huge := `{"jsonrpc":"2.0","id":3,"method":"ask","params":{"question":"` + strings.Repeat("x", api.MaxMessageBytes) + `"}}`
	go func() {
		io.WriteString(nc, "not json\n")
		io.WriteString(nc, `{"jsonrpc":"2.0","id":2,"method":"status",}`+"\n")
		io.WriteString(nc, `{"foo": [1, "]"]}`)
		io.WriteString(nc, huge+"\n")
		io.WriteString(nc, `{"jsonrpc":"2.0","id":4,"method":"status"}`+"\n")
	}()
	dec := json.NewDecoder(bufio.NewReader(nc))
	for _, want := range []struct {
		id   string
		code int64
		msg  string
	}{
		{"null", jsonrpc2.CodeParseError, "parse error: expected a JSON-RPC message (a JSON object); the line was skipped"},
		{"null", jsonrpc2.CodeParseError, "parse error: the message is not valid JSON"},
		{"null", jsonrpc2.CodeInvalidRequest, "invalid request: jsonrpc2: unable to determine message type (request or response)"},
		{"3", jsonrpc2.CodeInvalidRequest, fmt.Sprintf("invalid request: the message has %d bytes; the limit is %d (32 MiB)", len(huge), api.MaxMessageBytes)},
	} {
		var r wireReply
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("waiting for the error %q: %v\n%s", want.msg, err, d.stderr)
		}
		if string(r.ID) != want.id || r.Error == nil || r.Error.Code != want.code || r.Error.Message != want.msg {
			t.Fatalf("got id %s error %+v, want id %s code %d %q", r.ID, r.Error, want.id, want.code, want.msg)
		}
	}
	var r wireReply
	var st api.Status
	if err := dec.Decode(&r); err != nil || string(r.ID) != "4" || r.Error != nil || json.Unmarshal(r.Result, &st) != nil || st.State != api.StateReady {
		t.Fatalf("status after the bad messages: %v, %s %s %+v", err, r.ID, r.Result, r.Error)
	}
	d.stop(t)
}

// TestAskLimits: questions too long to tokenize and sampling values out of
// range are refused with invalid params, as are bad locations, whose
// errors come from within the question.
func TestAskLimits(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	st := d.ready(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name string
		p    api.AskParams
		msg  string
	}{
		{"256 KiB question", api.AskParams{Question: strings.Repeat("x", 256<<10)}, "the question has 262144 bytes; the limit is 65536 (64 KiB)"},
		{"max_tokens", api.AskParams{Question: "x", MaxTokens: st.ContextSize + 1}, fmt.Sprintf("max_tokens %d is more than the context holds (%d tokens)", st.ContextSize+1, st.ContextSize)},
		{"temperature", api.AskParams{Question: "x", Temperature: 1e38}, "temperature 1e+38 is out of range"},
		{"priority", api.AskParams{Question: "x", Priority: "urgent"}, `unknown priority "urgent"`},
		{"location", api.AskParams{Question: "x", Location: &api.Location{Path: "beta/beta.go", StartLine: 5, EndLine: 2}}, "location: bad line range 5-2"},
		{"selection", api.AskParams{Question: "x", Location: &api.Location{Path: "beta/beta.go", Text: strings.Repeat("y", 1<<20+1)}}, "location: the selection in beta/beta.go is 1048577 bytes, over the 1048576-byte file size limit"},
	} {
		_, err := d.client.Ask(ctx, tc.p, nil, nil)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != jsonrpc2.CodeInvalidParams || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: %v (%T), want code %d %q", tc.name, err, err, jsonrpc2.CodeInvalidParams, tc.msg)
		}
	}
	d.stop(t)
}

// TestStalledClientLetsGo: a client that asks and then stops reading holds
// a view of the prefix while its answer waits to be written. A sync that
// waits for that view holds up every question after it; the daemon lets
// the stalled client go, and the other questions are answered.
func TestStalledClientLetsGo(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	d.ready(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard, not a timing check
	defer cancel()
	before, err := d.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The stalled client: replies to its status requests fill the socket's
	// buffer, so the answer's text waits behind them; it never reads.
	stalled, err := net.Dial("unix", e.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	w := bufio.NewWriter(stalled)
	for i := range 3000 {
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%d,"method":"status"}`+"\n", i+100)
	}
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":1,"method":"ask","params":{"question":"What does Gamma do?","max_tokens":64}}`+"\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// Its question holds a view once it decodes.
	for {
		st, err := d.client.Status(ctx)
		if err != nil {
			t.Fatalf("status: %v\n%s", err, d.stderr)
		}
		if st.BatchDecodes > before.BatchDecodes {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	// An edit: the watcher's sync waits for that view, and so does the
	// next question (which would sync itself otherwise).
	gamma := filepath.Join(e.repo, "gamma", "gamma.go")
	if err := os.WriteFile(gamma, []byte(strings.Replace(testenv.FixtureFiles["gamma/gamma.go"], "!", "?!", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := d.client.Ask(ctx, api.AskParams{Question: "What does Gamma return now?", MaxTokens: 4}, nil, nil)
	if err != nil {
		t.Fatalf("a question behind a stalled client: %v\n%s", err, d.stderr)
	}
	if res.PackVersion == before.PackVersion {
		t.Fatalf("the question was answered on the pack before the edit (%s)", res.PackVersion)
	}
	// The stalled client was let go: what it can still read ends.
	stalled.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(io.Discard, stalled); err != nil {
		t.Fatalf("the stalled client's connection did not end: %v", err)
	}
	d.stop(t)
}
