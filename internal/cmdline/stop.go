package cmdline

import (
	"context"
	"errors"
	"syscall"
	"time"

	"lore/api"
)

// ErrNoExit means a daemon asked to shut down was still running when the
// wait ended.
var ErrNoExit = errors.New("the daemon did not exit in time")

// StopDaemon asks the daemon behind c to shut down and waits until its
// process has exited: it saves its snapshot after closing its socket.
func StopDaemon(ctx context.Context, c *api.Client) (pid int, err error) {
	st, err := c.Status(ctx)
	if err != nil {
		return 0, err
	}
	if err := c.Shutdown(ctx); err != nil {
		return st.PID, err
	}
	for syscall.Kill(st.PID, 0) == nil {
		select {
		case <-ctx.Done():
			return st.PID, ErrNoExit
		case <-time.After(20 * time.Millisecond):
		}
	}
	return st.PID, nil
}
