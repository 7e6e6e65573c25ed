package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
)

// These fuzz targets run their seeds as ordinary tests; `make fuzz` runs
// each for a while (FUZZTIME), and longer runs are
//
//	go test -run '^$' -fuzz '^FuzzDaemonConn$' -fuzztime 10m ./daemon/

// socketPair is a connected pair of unix sockets.
func socketPair(t testing.TB) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// quietDaemon is a daemon that is not started (no engine, no store): its
// connections are served as while it loads.
func quietDaemon(t testing.TB, repo string) *Daemon {
	t.Helper()
	d, err := New(Options{Repo: repo, StateDir: filepath.Join(repo, ".state"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// FuzzDaemonConn serves a client connection that sends arbitrary bytes: the
// daemon must not panic or hang, what it writes must be JSON-RPC 2.0
// messages, and no error may hide another's code.
func FuzzDaemonConn(f *testing.F) {
	for _, s := range []string{
		"",
		`{"jsonrpc":"2.0","id":1,"method":"status"}` + "\n",
		`{"jsonrpc":"2.0","id":1,"method":"ask","params":{"question":"x","priority":"urgent"}}`,
		`{"jsonrpc":"2.0","id":"a","method":"ask","params":{"question":"x","max_tokens":-1,"temperature":1e38,"top_p":-1}}`,
		`{"jsonrpc":"2.0","id":2,"method":"ask","params":{"question":"` + strings.Repeat("y", 2000) + `"}}` + "\n" + `{"jsonrpc":"2.0","id":3,"method":"status"}`,
		`{"jsonrpc":"2.0","id":4,"method":"buffer/update","params":{"path":"a.go","text":"package a\n"}}{"jsonrpc":"2.0","id":5,"method":"buffer/close","params":{"path":"a.go"}}`,
		`{"jsonrpc":"2.0","id":6,"method":"session/get","params":{"name":"../x"}}`,
		`{"jsonrpc":"2.0","method":"ask/cancel","params":{"stream":"s"}}`,
		`{"jsonrpc":"2.0","id":7,"method":"nope"}`,
		"not json\n{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"status\"}",
		`{"jsonrpc":"2.0","id":9,"method":"status",}`,
		`{"a":"}\"{[","b":[[[]]]}`,
		`[{"jsonrpc":"2.0","id":1,"method":"status"}]`,
		`{"jsonrpc":"2.0","result":1,"id":99}`,
		"{{{{{{{{",
		`{"jsonrpc":"2.0","id":1.5,"method":"status"}`,
	} {
		f.Add([]byte(s))
	}
	repo := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		d := quietDaemon(t, repo)
		d.maxMsg = 1 << 10
		server, client := socketPair(t)
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		served := make(chan struct{})
		go func() {
			d.serveConn(ctx, server)
			close(served)
		}()
		go func() {
			client.Write(data)
			client.CloseWrite()
		}()
		out, err := io.ReadAll(client)
		<-served
		if ctx.Err() != nil {
			t.Fatalf("the connection did not end with its input")
		}
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var m struct {
				JSONRPC string          `json:"jsonrpc"`
				Error   *jsonrpc2.Error `json:"error"`
			}
			if err := dec.Decode(&m); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("the daemon wrote what is not JSON: %v\n%q", err, out)
			}
			if m.JSONRPC != "2.0" {
				t.Fatalf("a message without jsonrpc 2.0: %q", out)
			}
			if e := m.Error; e != nil && e.Code == jsonrpc2.CodeInternalError && strings.Contains(e.Message, "code -32") {
				t.Fatalf("an error hides another's code: %q", e.Message)
			}
		}
	})
}

// FuzzAskParams sends the ask method arbitrary params: what is refused is
// refused as invalid params, and what is let through is in range.
func FuzzAskParams(f *testing.F) {
	for _, s := range []string{
		`{"question":"x"}`,
		`{"question":"  "}`,
		`null`,
		`[1]`,
		`{"question":"x","max_tokens":-1}`,
		`{"question":"x","max_tokens":100000000000}`,
		`{"question":"x","temperature":1e38}`,
		`{"question":"x","temperature":2,"top_p":1,"top_k":-1}`,
		`{"question":"x","top_p":-0.5}`,
		`{"question":"x","top_k":4294967297}`,
		`{"question":"x","priority":"hook","session":"plan-1"}`,
		`{"question":"x","session":"a/../b"}`,
		`{"question":"x","location":{"path":"/etc/passwd","start_line":-1}}`,
		`{"question":"` + strings.Repeat("z", api.MaxQuestionBytes+1) + `"}`,
	} {
		f.Add([]byte(s))
	}
	repo := f.TempDir()
	f.Fuzz(func(t *testing.T, params []byte) {
		d := quietDaemon(t, repo)
		// A question let through waits for the engine; the cancelled
		// context ends that wait at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		raw := json.RawMessage(params)
		_, err := d.handle(ctx, nil, &jsonrpc2.Request{Method: api.MethodAsk, Params: &raw})
		var re *jsonrpc2.Error
		if !errors.As(err, &re) {
			t.Fatalf("ask %q: %v (%T), want a JSON-RPC error", params, err, err)
		}
		if re.Code == jsonrpc2.CodeInvalidParams {
			return
		}
		if re.Code != jsonrpc2.CodeInternalError || re.Message != context.Canceled.Error() {
			t.Fatalf("ask %q: code %d %q", params, re.Code, re.Message)
		}
		var p api.AskParams
		if err := json.Unmarshal(params, &p); err != nil {
			t.Fatalf("ask %q was let through with params that do not decode: %v", params, err)
		}
		switch {
		case strings.TrimSpace(p.Question) == "", len(p.Question) > api.MaxQuestionBytes:
			t.Fatalf("a question of %d bytes was let through", len(p.Question))
		case p.MaxTokens < 0, p.Temperature < 0, p.Temperature > api.MaxTemperature, !(p.TopP >= 0 && p.TopP <= 1), int(int32(p.TopK)) != p.TopK:
			t.Fatalf("sampling values out of range were let through: %+v", p)
		case p.Priority != "" && p.Priority != api.PriorityInteractive && p.Priority != api.PriorityHook && p.Priority != api.PriorityBackground:
			t.Fatalf("priority %q was let through", p.Priority)
		}
	})
}
