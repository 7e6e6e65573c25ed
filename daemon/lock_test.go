package daemon_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"lore/api"
	"lore/config"
)

// lockPath is where the daemon keeps its lock: beside its socket.
func (e *env) lockPath() string {
	return strings.TrimSuffix(e.socket(), ".sock") + ".lock"
}

// pid is the pid of the daemon answering on the socket, 0 if none does.
func (e *env) pid() int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := api.Dial(ctx, e.socket())
	if err != nil {
		return 0
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		return 0
	}
	return st.PID
}

// waitAnswers waits until the daemon with pid answers on the socket.
func (e *env) waitAnswers(d *daemon, pid int) {
	e.t.Helper()
	deadline := time.After(2 * time.Minute)
	for e.pid() != pid {
		select {
		case err := <-d.done:
			d.done <- err
			e.t.Fatalf("the daemon exited (%v):\n%s", err, d.stderr)
		case <-deadline:
			e.t.Fatalf("the daemon (pid %d) does not answer on %s:\n%s", pid, e.socket(), d.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// secondRefused starts a second daemon for the repository and checks that
// it is refused (exit 4) and never answers in the first one's place.
func (e *env) secondRefused(first int) {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(e.bin, "lore"), "daemon", "--repo", e.repo)
	cmd.Env = e.vars
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case err := <-done:
			done <- err
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 4 || !strings.Contains(out.String(), "already running") {
				e.t.Fatalf("second daemon: %v, want exit 4 (already running)\n%s", err, out)
			}
			return
		case <-deadline:
			e.t.Fatalf("the second daemon neither exited nor answered:\n%s", out)
		case <-time.After(50 * time.Millisecond):
			if pid := e.pid(); pid != 0 && pid != first {
				e.t.Fatalf("a second daemon (pid %d) serves the repository while the first (pid %d) runs:\n%s", pid, first, out)
			}
		}
	}
}

// The case: the state folder was deleted while a daemon ran, with
// its lock in it; a second daemon started, took over the socket path and
// left the first one running, unreachable.
func TestDeletedStateFolderKeepsOneDaemon(t *testing.T) {
	e := newEnv(t)
	a := e.start()
	pid := a.ready(t).PID
	if err := os.RemoveAll(e.stateDir()); err != nil {
		t.Fatal(err)
	}
	e.secondRefused(pid)
	if got := e.pid(); got != pid {
		t.Fatalf("after the second start the socket answers pid %d, want the first daemon's %d", got, pid)
	}
	a.stop(t)
}

// A daemon whose socket and lock were removed (a clean-up of the temp
// folder, say) makes them again, and stays the only one.
func TestRemovedSocketAndLockAreRecreated(t *testing.T) {
	e := newEnv(t)
	a := e.start()
	pid := a.ready(t).PID
	if err := os.Remove(e.socket()); err != nil {
		t.Fatal(err)
	}
	e.waitAnswers(a, pid)

	runDir := filepath.Dir(e.socket())
	if err := os.RemoveAll(runDir); err != nil {
		t.Fatal(err)
	}
	e.waitAnswers(a, pid)
	st, err := os.Stat(runDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("the re-created socket folder has mode %04o, want 0700", st.Mode().Perm())
	}
	if _, err := os.Stat(e.lockPath()); err != nil {
		t.Fatalf("the lock was not re-created: %v", err)
	}
	e.secondRefused(pid)
	a.ask(t, "what does alpha do?")
	a.stop(t)
}

// A daemon whose lock file was replaced by one another process holds has
// lost the repository to it: it stops.
func TestDaemonStopsWhenItsLockIsTaken(t *testing.T) {
	e := newEnv(t)
	a := e.start()
	a.ready(t)
	tmp := e.lockPath() + ".other"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, e.lockPath()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		a.done <- err
		if !strings.Contains(a.stderr.String(), e.lockPath()) {
			t.Errorf("the daemon's log does not name its lock:\n%s", a.stderr)
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("the daemon runs on without its lock:\n%s", a.stderr)
	}
}

// TestDaemonStopsWhenItsRepositoryIsRemoved: a daemon for a repository that
// no longer exists serves no one and holds its model's memory; it stops.
func TestDaemonStopsWhenItsRepositoryIsRemoved(t *testing.T) {
	e := newEnv(t)
	a := e.start()
	a.ready(t)
	if err := os.RemoveAll(e.repo); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		a.done <- err
		if !strings.Contains(a.stderr.String(), "was removed") {
			t.Errorf("the daemon's log does not say why it stopped:\n%s", a.stderr)
		}
	case <-time.After(3 * time.Minute): // a hang guard, not a timing check
		t.Fatalf("the daemon runs on without its repository:\n%s", a.stderr)
	}
}

// State folders' names reveal repositories and branches: they are private,
// those an older lore made 0755 included.
func TestStateFoldersArePrivate(t *testing.T) {
	e := newEnv(t)
	snaps := filepath.Join(e.stateDir(), "snapshots")
	if err := os.MkdirAll(snaps, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Dir(e.stateDir()), e.stateDir(), snaps} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := e.start()
	a.ready(t)
	for _, dir := range []string{filepath.Join(e.get(config.EnvStateDir), "repos"), e.stateDir(), snaps} {
		st, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %04o, want 0700", dir, st.Mode().Perm())
		}
	}
	a.stop(t)
}

// A daemon of an older lore kept its lock in the state folder: a new daemon
// finds our lock free, but must not take a socket someone listens on.
func TestLiveSocketWithoutLockIsLeftAlone(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("unix", e.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A daemon that takes the socket over runs on: the context ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, "lore"), "daemon", "--repo", e.repo)
	cmd.Env = e.vars
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 || !strings.Contains(string(out), "lore stop") {
		t.Fatalf("daemon beside a live socket: %v, want exit 4\n%s", err, out)
	}
	c, err := net.Dial("unix", e.socket())
	if err != nil {
		t.Fatalf("the live socket was taken away: %v", err)
	}
	c.Close()
}
