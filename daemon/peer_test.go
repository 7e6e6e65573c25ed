package daemon_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/internal/testenv"
)

// peerEnv makes this test binary, run as a helper process, connect to the
// socket it names and print what the daemon answers to a status request.
const peerEnv = "LORE_TEST_PEER_SOCKET"

func TestMain(m *testing.M) {
	if socket := os.Getenv(peerEnv); socket != "" {
		os.Exit(askStatus(socket))
	}
	os.Exit(m.Run())
}

// askStatus sends a raw status request and prints the reply, or "closed"
// when the daemon hangs up without one.
func askStatus(socket string) int {
	nc, err := net.Dial("unix", socket)
	if err != nil {
		fmt.Println("dial:", err)
		return 1
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Minute))
	if _, err := nc.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"status"}` + "\n")); err != nil {
		fmt.Println("closed:", err)
		return 0
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if line != "" {
		fmt.Println("reply:", line)
		return 0
	}
	fmt.Println("closed:", err)
	return 0
}

// The daemon serves only its own user: a process of another user that can
// reach the socket (here the folder and the socket were opened up) gets no
// answer.
func TestDaemonRefusesOtherUsers(t *testing.T) {
	testenv.NeedRoot(t)
	e := newEnv(t)
	a := e.start()
	a.ready(t)
	for p, mode := range map[string]os.FileMode{e.get("LORE_RUNTIME_DIR"): 0o755, e.socket(): 0o777} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), peerEnv+"="+e.socket())
	testenv.AsOtherUser(t, cmd)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "closed") {
		t.Fatalf("a client of uid %d: %v\n%s", testenv.OtherUID, err, out)
	}
	if !strings.Contains(a.stderr.String(), "uid=65534") {
		t.Errorf("the daemon's log does not say whom it refused:\n%s", a.stderr)
	}
	// Its own user is still served (its client refuses a socket others
	// may write to).
	if err := os.Chmod(e.socket(), 0o600); err != nil {
		t.Fatal(err)
	}
	if pid := e.pid(); pid == 0 {
		t.Fatalf("the daemon no longer answers its user:\n%s", a.stderr)
	}
	a.stop(t)
}

// A socket folder another user made first is refused by the daemon too:
// that user could replace the socket and answer in its place.
func TestDaemonRefusesAnotherUsersSocketFolder(t *testing.T) {
	testenv.NeedRoot(t)
	e := newEnv(t)
	runDir := e.get("LORE_RUNTIME_DIR")
	if err := os.Chown(runDir, testenv.OtherUID, testenv.OtherUID); err != nil {
		t.Fatal(err)
	}
	// A daemon that accepts the folder runs on: the context ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, "lore"), "daemon", "--repo", e.repo)
	cmd.Env = e.vars
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 6 {
		t.Fatalf("daemon in another user's socket folder: %v, want exit 6\n%s", err, out)
	}
	for _, w := range []string{runDir, "belongs to uid 65534"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("the error does not say %q:\n%s", w, out)
		}
	}
}
