package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"lore/api"
)

// ErrAlreadyRunning is returned when another daemon serves the repository.
var ErrAlreadyRunning = errors.New("a lore daemon is already running for this repository")

// stoppingGrace is how long a new daemon waits for one that is shutting down
// (its socket already gone, its snapshot still being written) to let go.
const stoppingGrace = 2 * time.Minute

// lockPath is the daemon lock of the repository whose socket is socket. It
// lives beside the socket, in the private runtime folder, and not in the
// state folder: deleting the state folder while a daemon ran deleted its
// lock, and a second daemon started, took the socket path over and left the
// first one running where no client could reach it.
func lockPath(socket string) string {
	return strings.TrimSuffix(socket, ".sock") + ".lock"
}

// daemonLock is the repository's daemon lock: an flock on an open file,
// released by the kernel when the process dies, so a killed daemon never
// leaves it stale. The file holds the owner's pid. It is never removed: a
// lock file removed on release lets two processes lock two files.
type daemonLock struct {
	path string
	f    *os.File
}

// acquireLock takes the repository's daemon lock.
func acquireLock(repo, socket string) (*daemonLock, error) {
	path := lockPath(socket)
	deadline := time.Now().Add(stoppingGrace)
	for {
		f, err := tryLock(path)
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if f != nil {
			l := &daemonLock{path: path, f: f}
			if err := l.writePID(); err != nil {
				f.Close()
				return nil, fmt.Errorf("writing our pid to %s: %w", path, err)
			}
			return l, nil
		}
		// A daemon that holds the lock without a socket is stopping: wait.
		if _, err := os.Stat(socket); errors.Is(err, os.ErrNotExist) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		pid := "unknown"
		if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
			pid = string(bytes.TrimSpace(b))
		}
		return nil, fmt.Errorf("%w: %s (pid %s, socket %s); use it, or stop it with `lore stop --repo %s`", ErrAlreadyRunning, repo, pid, socket, repo)
	}
}

// tryLock opens path and takes an exclusive flock on it; it returns nil
// without an error when another process holds it.
func tryLock(path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, nil
			}
			return nil, err
		}
		// The file may have been removed or replaced between the open and
		// the flock: a lock on a file no longer at path keeps no one out.
		if atPath(f, path) {
			return f, nil
		}
		f.Close()
	}
}

// atPath reports whether path names the open file f.
func atPath(f *os.File, path string) bool {
	fst, err := f.Stat()
	if err != nil {
		return false
	}
	pst, err := os.Stat(path)
	return err == nil && os.SameFile(fst, pst)
}

func (l *daemonLock) writePID() error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		// The pid only names the holder in another daemon's message: on a
		// full disk the daemon runs without it rather than not at all.
		l.f.Truncate(0)
		return nil
	}
	return err
}

// held reports whether the lock's path still names the file this daemon
// holds locked.
func (l *daemonLock) held() bool { return atPath(l.f, l.path) }

// retake takes the lock again after its file was removed or replaced,
// re-creating its folder if needed. It fails when another process holds the
// file now at the path: another daemon took the repository over.
func (l *daemonLock) retake() error {
	if err := prepareSocketDir(filepath.Dir(l.path)); err != nil {
		return err
	}
	f, err := tryLock(l.path)
	if err != nil {
		return err
	}
	if f == nil {
		return fmt.Errorf("another process holds the lock %s now", l.path)
	}
	l.f.Close()
	l.f = f
	return l.writePID()
}

func (l *daemonLock) release() { l.f.Close() }

// prepareSocketDir creates the socket folder, private (0700), closes one of
// ours that others may read, and refuses one that is not ours: another
// user who created it first could listen in our place (see api.ErrDenied).
func prepareSocketDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if st, err := os.Lstat(dir); err == nil && st.IsDir() && st.Mode().Perm()&0o077 != 0 {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) == os.Geteuid() {
			if err := os.Chmod(dir, 0o700); err != nil {
				return fmt.Errorf("socket folder %s is open to other users and cannot be made private: %w", dir, err)
			}
		}
	}
	return api.VerifySocketDir(dir)
}

// listen opens the unix socket, readable and writable by the user alone.
// We hold the lock, so a socket file already there was left by a daemon
// that died: remove it. It returns the socket file's identity, to tell it
// from a file another process puts at the path later.
func listen(socket string) (net.Listener, fs.FileInfo, error) {
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("removing stale socket %s: %w", socket, err)
	}
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, nil, fmt.Errorf("listening on %s: %w", socket, err)
	}
	// Closing must not unlink by name: the path may name a successor's
	// socket by then (see endpoint.closeSocket).
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	st, err := os.Lstat(socket)
	if err == nil {
		err = os.Chmod(socket, 0o600)
	}
	if err != nil {
		l.Close()
		os.Remove(socket)
		return nil, nil, err
	}
	return l, st, nil
}
