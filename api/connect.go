package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lore/config"
)

// ConnectOptions say what to do when no daemon runs for the repository.
type ConnectOptions struct {
	// Start launches `lore daemon --repo ROOT` in the background when none
	// runs. The daemon inherits the environment (LORE_MODEL, LORE_LLAMA_LIB, ...)
	// and appends its output to config.LogPath, which it rotates itself.
	Start bool
	// LoreBinary is the lore executable to launch; "" looks next to the
	// running executable, then in PATH.
	LoreBinary string
	// Args are extra flags for the daemon (engine settings).
	Args []string
	// Wait bounds the wait for a started daemon's socket; 0 = WaitTimeout.
	Wait time.Duration
	// OnStart is called once when a daemon is launched.
	OnStart func(logPath string)
}

// Connect returns a client of the repository's daemon, starting one first if
// asked to.
func Connect(ctx context.Context, root string, opts ConnectOptions) (*Client, error) {
	socket := config.SocketPath(root)
	c, err := Dial(ctx, socket)
	if err == nil || !opts.Start || !errors.Is(err, ErrNotRunning) {
		return c, err
	}
	bin, err := loreBinary(opts.LoreBinary)
	if err != nil {
		return nil, err
	}
	stateDir := config.RepoStateDir(root)
	for _, dir := range []string{filepath.Dir(stateDir), stateDir} {
		if err := config.MkdirPrivate(dir); err != nil {
			return nil, err
		}
	}
	logPath := config.LogPath(root)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	offset, _ := logFile.Seek(0, 2)

	// The daemon's log may not take its last words (a full disk): it also
	// writes why it stops to this pipe, which only we read.
	reasonR, reasonW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer reasonR.Close()
	cmd := exec.Command(bin, append([]string{"daemon", "--repo", root}, opts.Args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{reasonW} // fd 3
	cmd.Env = append(os.Environ(), EnvReasonFD+"=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlive the client and its terminal
	err = cmd.Start()
	reasonW.Close()
	if err != nil {
		return nil, fmt.Errorf("starting %s daemon: %w", bin, err)
	}
	reason := make(chan string, 1)
	go func() {
		// EOF once the daemon exits; an error once we close our end.
		b, _ := io.ReadAll(io.LimitReader(reasonR, 4096))
		reason <- strings.TrimSpace(string(bytes.ToValidUTF8(b, nil)))
	}()
	if opts.OnStart != nil {
		opts.OnStart(logPath)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	wait := opts.Wait
	if wait <= 0 {
		wait = WaitTimeout
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-exited:
			// Another client may have won the race to start it.
			if c, derr := Dial(ctx, socket); derr == nil {
				return c, nil
			}
			var why string
			select {
			case why = <-reason:
			case <-time.After(2 * time.Second): // a child of the daemon kept the pipe
			}
			return nil, startFailure(err, why, logPath, offset)
		case <-deadline.C:
			return nil, fmt.Errorf("the lore daemon did not open %s within %s; see its log %s", socket, wait, logPath)
		case <-tick.C:
			if c, err := Dial(ctx, socket); err == nil {
				return c, nil
			}
		}
	}
}

func loreBinary(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if exe, err := os.Executable(); err == nil {
		cand := filepath.Join(filepath.Dir(exe), "lore")
		if st, err := os.Stat(cand); err == nil && !st.IsDir() {
			return cand, nil
		}
	}
	if p, err := exec.LookPath("lore"); err == nil {
		return p, nil
	}
	return "", errors.New("cannot find the lore binary to start a daemon: put it next to ask or in PATH (`make build` writes both to bin/)")
}

// EnvReasonFD names the file descriptor on which a daemon that Connect
// started writes why it stops, when it stops with an error.
const EnvReasonFD = "LORE_DAEMON_REASON_FD"

// ReasonWriter returns where a daemon started by Connect writes why it
// stops (nil when not started by Connect), and unsets EnvReasonFD so that
// its own children do not inherit it.
func ReasonWriter() *os.File {
	v := os.Getenv(EnvReasonFD)
	os.Unsetenv(EnvReasonFD)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "daemon-reason")
}

// startFailure says why a daemon that Connect started exited: what it said
// on its reason pipe, else what it wrote to its log since offset, else that
// it wrote nothing, and why that may be (a full disk under its log).
func startFailure(exit error, reason, logPath string, offset int64) error {
	tail := logTail(logPath, offset)
	switch {
	case reason != "" && (tail == "" || strings.Contains(tail, reason)):
		return fmt.Errorf("the lore daemon exited (%v): %s", exit, reason)
	case reason != "":
		return fmt.Errorf("the lore daemon exited (%v): %s\nits log %s ends with:\n%s", exit, reason, logPath, tail)
	case tail != "":
		return fmt.Errorf("the lore daemon exited (%v):\n%s", exit, tail)
	}
	msg := fmt.Sprintf("the lore daemon exited (%v) and wrote nothing to its log %s", exit, logPath)
	var st syscall.Statfs_t
	if syscall.Statfs(filepath.Dir(logPath), &st) == nil {
		if free := int64(st.Bavail) * int64(st.Bsize); free < fullDisk {
			msg += fmt.Sprintf(": the file system holding it is full (%d bytes free); free some space there", free)
		}
	}
	return errors.New(msg)
}

// fullDisk is the free space under which a silent daemon is blamed on the
// disk: a log line is a few hundred bytes.
const fullDisk = 1 << 20

// logTail returns what the daemon wrote to its log since offset (at most 4 KiB).
func logTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if int64(len(b)) < offset { // the daemon rotated its log when it started
		offset = 0
	}
	b = b[offset:]
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return strings.TrimRight(string(bytes.ToValidUTF8(b, nil)), "\n")
}
