package daemon

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// ErrAlreadyRunning is returned when another daemon serves the repository.
var ErrAlreadyRunning = errors.New("a lore daemon is already running for this repository")

// stoppingGrace is how long a new daemon waits for one that is shutting down
// (its socket already gone, its snapshot still being written) to let go.
const stoppingGrace = 2 * time.Minute

// acquireLock takes the repository's daemon lock (an flock, released by the
// kernel when the process dies, so a killed daemon never leaves it stale) and
// records our pid in it.
func acquireLock(stateDir, repo, socket string) (*flock.Flock, error) {
	path := filepath.Join(stateDir, "daemon.lock")
	fl := flock.New(path)
	deadline := time.Now().Add(stoppingGrace)
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			break
		}
		// A daemon that holds the lock without a socket is stopping: wait.
		if _, err := os.Stat(socket); errors.Is(err, os.ErrNotExist) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		pid := "unknown"
		if b, err := os.ReadFile(path + ".pid"); err == nil {
			pid = strings.TrimSpace(string(b))
		}
		return nil, fmt.Errorf("%w: %s (pid %s, socket %s); use it, or stop it with `lore stop --repo %s`", ErrAlreadyRunning, repo, pid, socket, repo)
	}
	// The pid file only names the holder in the message above: on a full
	// disk the daemon runs without it rather than not at all.
	if err := os.WriteFile(path+".pid", []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		os.Remove(path + ".pid") // not another daemon's pid, nor half of ours
		if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
			fl.Unlock()
			return nil, err
		}
	}
	return fl, nil
}

// listen opens the unix socket in a private (0700) folder. We hold the lock,
// so a socket file already there was left by a daemon that died: remove it.
func listen(socket string) (net.Listener, error) {
	dir := filepath.Dir(socket)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("socket folder %s is accessible to other users and cannot be made private: %w", dir, err)
		}
	}
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing stale socket %s: %w", socket, err)
	}
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", socket, err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}
