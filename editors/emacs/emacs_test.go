// Package emacs_test runs lore.el in a real `emacs --batch` with eglot
// against a real `lore lsp` and daemon on the generated tiny model. The
// Emacs Lisp driver in testdata/ writes what it saw to a JSON file; the
// assertions are here.
//
// The test skips when emacs is not installed, and fails then under
// LORE_TEST_REQUIRE, as `make test` sets it (`make deps` installs Debian's
// emacs-nox and elpa-eglot).
package emacs_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lore/internal/testenv"
)

// emacsTimeout bounds the Emacs run: the test never hangs.
const emacsTimeout = 4 * time.Minute

func requireEmacs(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("emacs")
	if err != nil {
		testenv.Unavailable(t, "emacs not found on PATH: install Emacs 28 or newer with eglot (`make deps` installs Debian's emacs-nox and elpa-eglot) to test editors/emacs")
	}
	return path
}

// Result is what testdata/e2e.el reports.
type Result struct {
	Error             string
	ServerPID         int             `json:"server_pid"`
	Commands          []string        `json:"commands"`
	SyncReplyMS       int             `json:"sync_reply_ms"`
	SyncReply         json.RawMessage `json:"sync_reply"`
	AnswerBeforeReply bool            `json:"answer_before_reply"`
	AnswerMessage     string          `json:"answer_message"`
	AnswerMS          int             `json:"answer_ms"`
	Actions           []string        `json:"actions"`
	ActionReturnMS    int             `json:"action_return_ms"`
	ActionBuffer      string          `json:"action_buffer"`
	AskReturnMS       int             `json:"ask_return_ms"`
	AskBuffer         string          `json:"ask_buffer"`
	Buffers           int             `json:"buffers"`
	CancelledCount    int             `json:"cancelled_count"`
	CancelLine        string          `json:"cancel_line"`
	StatusBuffer      string          `json:"status_buffer"`
	ServerStatus      string          `json:"server_status"`
	ServerExit        int             `json:"server_exit"`
}

// RunEmacs runs the driver against repo with lore (and the daemon's
// environment env) and returns its report and Emacs' output.
func RunEmacs(t *testing.T, emacs, loreBin string, env []string, repo string, facts map[string]any) (*Result, string) {
	t.Helper()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out.json")
	facts["out"] = out
	b, _ := json.Marshal(facts)
	factsPath := filepath.Join(tmp, "facts.json")
	if err := os.WriteFile(factsPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), emacsTimeout)
	defer cancel()
	// --batch reads no init file; Debian's site-start (kept) puts its
	// elpa packages (eglot) on the load path.
	cmd := exec.CommandContext(ctx, emacs, "--batch", "-L", dir, "-l", filepath.Join(dir, "testdata", "e2e.el"))
	cmd.Dir = repo
	home := filepath.Join(tmp, "home")
	os.MkdirAll(home, 0o755)
	vars := []string{"HOME=" + home, "LORE_TEST_FACTS=" + factsPath, "PATH=" + filepath.Dir(loreBin) + string(os.PathListSeparator) + os.Getenv("PATH")}
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != "HOME" && k != "PATH" && !strings.HasPrefix(k, "EMACS") {
			vars = append(vars, kv)
		}
	}
	cmd.Env = vars
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("emacs: %v\n%s", err, output)
	}
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the driver wrote no report: %v\n%s", err, output)
	}
	var r Result
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("report %s: %v", body, err)
	}
	return &r, string(output)
}

// TestEndToEnd: eglot connects to `lore lsp`, which starts a daemon; an
// ask through eglot's own synchronous executeCommand on the daemon still
// starting returns at once and its answer arrives as a message naming the
// answer file; code actions run through lore.el without waiting; an edit
// reaches the daemon as an unsaved buffer; lore-cancel, lore-status;
// shutdown leaves no server process.
func TestEndToEnd(t *testing.T) {
	emacs := requireEmacs(t)
	bins := testenv.Binaries(t)
	env := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	lore := filepath.Join(bins, "lore")
	t.Cleanup(func() {
		cmd := exec.Command(lore, "stop")
		cmd.Dir, cmd.Env = repo, env
		cmd.Run()
	})
	file := filepath.Join(repo, "alpha", "alpha.go")
	r, output := RunEmacs(t, emacs, lore, env, repo, map[string]any{
		"file": file, "max_tokens": 8, "question": "What does Alpha return?",
		"edit": "// Edited in Emacs, not saved.\n",
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- emacs output:\n%s\n--- report: %+v", output, r)
		}
	})
	if r.Error != "" {
		t.Fatalf("driver: %s", r.Error)
	}
	for _, c := range []string{"lore.ask", "lore.explain", "lore.plan", "lore.status", "lore.summarizeChanges", "lore.cancel"} {
		if !strings.Contains(strings.Join(r.Commands, " "), c) {
			t.Errorf("the server does not advertise %s: %v", c, r.Commands)
		}
	}

	// eglot's synchronous command on a cold daemon.
	var started struct {
		Started     bool
		DocumentURI string
	}
	json.Unmarshal(r.SyncReply, &started)
	if !started.Started || started.DocumentURI == "" {
		t.Errorf("lore.ask's reply: %s", r.SyncReply)
	}
	if r.AnswerBeforeReply {
		t.Error("the answer came before the command's reply")
	}
	path := strings.TrimPrefix(started.DocumentURI, "file://")
	if !strings.Contains(r.AnswerMessage, path) {
		t.Errorf("the answer's message %q does not name the answer file %s", r.AnswerMessage, path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("answer file: %v", err)
	}

	want := "Ask lore about this,Explain with repository context,Plan a change here"
	if got := strings.Join(r.Actions, ","); got != want {
		t.Errorf("code actions %q, want %q", got, want)
	}
	for name, buf := range map[string]string{"code action": r.ActionBuffer, "lore-ask": r.AskBuffer} {
		if !strings.HasPrefix(buf, "# lore.ask") || !strings.Contains(buf, "answered: ") || !strings.Contains(buf, ".md") {
			t.Errorf("%s's answer buffer:\n%s", name, buf)
		}
	}
	if !strings.Contains(r.AskBuffer, "> What does Alpha return?") {
		t.Errorf("lore-ask's buffer lacks the question:\n%s", r.AskBuffer)
	}
	if r.Buffers != 1 {
		t.Errorf("the daemon holds %d unsaved buffers, want the edited one", r.Buffers)
	}
	if r.CancelledCount != 1 || !strings.Contains(r.CancelLine, "cancelled") {
		t.Errorf("lore-cancel: %d cancelled, header line %q", r.CancelledCount, r.CancelLine)
	}
	if !strings.Contains(r.StatusBuffer, "state") || !strings.Contains(r.StatusBuffer, "ready") {
		t.Errorf("status buffer:\n%s", r.StatusBuffer)
	}
	// eglot answers shutdown's reply with exit, then has jsonrpc delete
	// the process at once: an exit of 0 or a SIGKILL are both an end.
	if !(r.ServerStatus == "exit" && r.ServerExit == 0) && !(r.ServerStatus == "signal" && r.ServerExit == int(syscall.SIGKILL)) {
		t.Errorf("lore lsp ended with %s %d", r.ServerStatus, r.ServerExit)
	}
	// Nothing of the session is left: the server process is gone.
	if r.ServerPID > 0 {
		if err := syscall.Kill(r.ServerPID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("lore lsp (pid %d) outlived Emacs: %v", r.ServerPID, err)
		}
	}
	// The daemon dropped the session's unsaved buffer with its connection.
	deadline := time.Now().Add(30 * time.Second)
	for {
		cmd := exec.Command(lore, "status", "--json")
		cmd.Dir, cmd.Env = repo, env
		out, err := cmd.Output()
		var st struct{ Buffers int }
		if err == nil && json.Unmarshal(out, &st) == nil && st.Buffers == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the daemon still holds the session's buffers: %v %s", err, out)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("emacs: command reply %d ms (eglot's synchronous executeCommand, cold daemon), answer after %d ms; code action returned in %d ms, lore-ask in %d ms",
		r.SyncReplyMS, r.AnswerMS, r.ActionReturnMS, r.AskReturnMS)
}
