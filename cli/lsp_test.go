package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"lore/internal/testenv"
	"lore/lsp"
)

// lspProc is `lore lsp` run as an editor runs it, spoken to in raw LSP
// frames on its stdin and stdout.
type lspProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
	done   chan error
	once   sync.Once
}

func startLSP(t *testing.T, vars []string, dir string, args ...string) *lspProc {
	t.Helper()
	p := &lspProc{t: t, done: make(chan error, 1)}
	p.cmd = exec.Command(filepath.Join(testenv.Binaries(t), "lore"), append([]string{"lsp"}, args...)...)
	p.cmd.Env, p.cmd.Dir, p.cmd.Stderr = vars, dir, &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.wait()
	})
	return p
}

func (p *lspProc) send(raw string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, raw); err != nil {
		p.t.Fatal(err)
	}
}

func (p *lspProc) msg(body string) {
	p.send(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

type lspMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *jsonrpc2.Error `json:"error"`
}

// readAll reads frames until stdout ends; every frame must be well formed.
func (p *lspProc) readAll() []lspMsg { return p.readUntil("") }

// readUntil reads frames until the response with id (or, for "", the end
// of stdout).
func (p *lspProc) readUntil(id string) []lspMsg {
	p.t.Helper()
	var out []lspMsg
	for {
		var raw json.RawMessage
		err := jsonrpc2.VSCodeObjectCodec{}.ReadObject(p.stdout, &raw)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			p.t.Fatalf("bad frame from lore lsp: %v\nstderr:\n%s", err, p.stderr.String())
		}
		var m lspMsg
		if err := json.Unmarshal(raw, &m); err != nil {
			p.t.Fatalf("bad message %s: %v", raw, err)
		}
		out = append(out, m)
		if id != "" && m.Method == "" && string(m.ID) == id {
			return out
		}
	}
}

// wait returns the exit code, once stdout has been read to its end.
func (p *lspProc) wait() int {
	p.t.Helper()
	p.once.Do(func() { go func() { p.done <- p.cmd.Wait() }() })
	select {
	case err := <-p.done:
		p.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			p.t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		p.t.Fatalf("lore lsp did not exit\nstderr:\n%s", p.stderr.String())
		return -1
	}
}

func byID(msgs []lspMsg) map[string]lspMsg {
	out := map[string]lspMsg{}
	for _, m := range msgs {
		if m.Method == "" {
			out[string(m.ID)] = m
		}
	}
	return out
}

// TestLSPBinary runs `lore lsp` as an editor does: the repository comes
// from rootUri (the process runs elsewhere), code actions need no daemon,
// bad frames are answered, and shutdown/exit end it with code 0.
func TestLSPBinary(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	p := startLSP(t, vars, t.TempDir(), "--no-start")
	alpha := "file://" + filepath.Join(repo, "alpha", "alpha.go")
	p.msg(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":"file://` + repo + `","capabilities":{}}}`)
	p.msg(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	p.msg(`{"jsonrpc":"2.0","id":2,"method":"textDocument/codeAction","params":{"textDocument":{"uri":"` + alpha + `"},"range":{"start":{"line":3,"character":0},"end":{"line":3,"character":0}},"context":{"diagnostics":[]}}}`)
	p.send("Content-Length: 7\r\n\r\n{nope}}")
	p.send("junk\r\n")
	p.msg(`{"jsonrpc":"2.0","id":3,"method":"textDocument/definition","params":{}}`)
	p.msg(`{"jsonrpc":"2.0","id":4,"method":"lore/status"}`)
	// shutdown would cancel what is in flight: wait for lore/status first.
	msgs := p.readUntil("4")
	p.msg(`{"jsonrpc":"2.0","id":5,"method":"shutdown"}`)
	p.msg(`{"jsonrpc":"2.0","method":"exit"}`)
	msgs = append(msgs, p.readAll()...)
	if code := p.wait(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit\nstderr:\n%s", code, p.stderr.String())
	}
	got := byID(msgs)
	var caps struct {
		Capabilities struct {
			ExecuteCommandProvider struct{ Commands []string } `json:"executeCommandProvider"`
		} `json:"capabilities"`
	}
	json.Unmarshal(got["1"].Result, &caps)
	if len(caps.Capabilities.ExecuteCommandProvider.Commands) != len(lsp.Commands) {
		t.Errorf("initialize: %s", got["1"].Result)
	}
	var actions []struct{ Title string }
	if json.Unmarshal(got["2"].Result, &actions); len(actions) != 3 {
		t.Errorf("codeAction: %s %v", got["2"].Result, got["2"].Error)
	}
	if e := got["null"].Error; e == nil || e.Code != jsonrpc2.CodeParseError {
		t.Errorf("malformed frame: %+v", got["null"])
	}
	if e := got["3"].Error; e == nil || e.Code != jsonrpc2.CodeMethodNotFound {
		t.Errorf("unknown method: %+v", got["3"])
	}
	if e := got["4"].Error; e == nil || !strings.Contains(e.Message, "no lore daemon") {
		t.Errorf("lore/status without a daemon (--no-start): %+v", got["4"])
	}
	if m, ok := got["5"]; !ok || m.Error != nil || string(m.Result) != "null" {
		t.Errorf("shutdown: %+v", m)
	}
}

func TestLSPBinaryExitCodes(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}`

	// exit without shutdown: 1.
	p := startLSP(t, vars, repo, "--no-start")
	p.msg(init)
	p.msg(`{"jsonrpc":"2.0","method":"exit"}`)
	p.readAll()
	if code := p.wait(); code != 1 {
		t.Errorf("exit without shutdown: code %d, want 1", code)
	}

	// stdin closed: a clean exit.
	p = startLSP(t, vars, repo, "--no-start", "--repo", repo)
	p.msg(init)
	p.stdin.Close()
	p.readAll()
	if code := p.wait(); code != 0 {
		t.Errorf("stdin closed: code %d, want 0\n%s", code, p.stderr.String())
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lsp", "extra"}, 2, "unexpected arguments"},
		{[]string{"lsp", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"lsp", "--help"}, 0, "Usage: lore lsp"},
	} {
		out, errOut, code := run(t, vars, repo, "lore", tc.args...)
		if code == 0 {
			errOut = out // help goes to stdout
		}
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("lore %v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, errOut)
		}
	}
}
