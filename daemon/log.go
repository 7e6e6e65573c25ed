package daemon

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"lore/config"
)

// A background daemon's log is rotated when it starts: daemon.log becomes
// daemon.log.1 (and so on, logKeep files kept) once it passes logMaxBytes.
const (
	logMaxBytes = 10 << 20
	logKeep     = 3
)

// RotateLog rotates the repository's daemon log (config.LogPath) when this
// process writes its stderr there, as a daemon that a client started in the
// background does, and the log has passed logMaxBytes. Stdout and stderr
// then write to a fresh log. Call it before anything is logged.
func RotateLog(root string) error {
	path := config.LogPath(root)
	st, err := os.Stat(path)
	if err != nil || st.Size() < logMaxBytes || !writesTo(os.Stderr, st) {
		return nil
	}
	toStdout := writesTo(os.Stdout, st)
	rotateLog(path, logMaxBytes, logKeep)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("reopening the daemon log: %w", err)
	}
	defer f.Close()
	if toStdout {
		if err := unix.Dup2(int(f.Fd()), int(os.Stdout.Fd())); err != nil {
			return fmt.Errorf("reopening the daemon log: %w", err)
		}
	}
	if err := unix.Dup2(int(f.Fd()), int(os.Stderr.Fd())); err != nil {
		return fmt.Errorf("reopening the daemon log: %w", err)
	}
	return nil
}

// writesTo reports whether out is the file log.
func writesTo(out *os.File, log os.FileInfo) bool {
	st, err := out.Stat()
	return err == nil && os.SameFile(st, log)
}

func rotateLog(path string, maxBytes int64, keep int) {
	st, err := os.Stat(path)
	if err != nil || st.Size() < maxBytes {
		return
	}
	for i := keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", path, i), fmt.Sprintf("%s.%d", path, i+1))
	}
	os.Rename(path, path+".1")
}
