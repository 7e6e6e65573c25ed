// Package cmdline holds what the lore, ask and benchmark command lines share:
// exit codes, flag parsing, the engine settings flags, a terminal progress
// line and stopping a daemon. It imports only api and config, so that ask,
// which uses it, stays a thin client of the daemon.
package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"lore/api"
	"lore/config"
)

// Exit codes shared by lore and ask.
const (
	ExitOK          = 0
	ExitError       = 1   // the command failed; the message says why
	ExitUsage       = 2   // bad flags or arguments
	ExitNotRunning  = 3   // no daemon serves the repository
	ExitRunning     = 4   // a daemon already serves the repository
	ExitBusy        = 5   // the daemon has too much queued work: retry later
	ExitDenied      = 6   // the daemon's socket is another user's or closed to the user (api.ErrDenied)
	ExitInterrupted = 130 // stopped by Ctrl-C
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// WithCode makes err end the command with the exit code.
func WithCode(code int, err error) error { return &exitError{code, err} }

// UsageErr is a usage error (ExitUsage) with a formatted message.
func UsageErr(format string, a ...any) error {
	return WithCode(ExitUsage, fmt.Errorf(format, a...))
}

// Finish prints err (if any) and returns the exit code.
func Finish(prog string, stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "%s: interrupted\n", prog)
		return ExitInterrupted
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeBusy {
		return ExitBusy
	}
	if errors.Is(err, api.ErrDenied) {
		return ExitDenied
	}
	return ExitError
}

// SignalContext is cancelled by SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// NewFlagSet returns a flag set that reports errors instead of exiting.
func NewFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses flags; a flag error becomes a usage error.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return WithCode(ExitUsage, err)
	}
	return nil
}

// ParseRepo parses the flags of a command that takes no arguments, only
// --repo, and resolves the repository root.
func ParseRepo(fs *flag.FlagSet, args []string, repo *string) (string, error) {
	if err := Parse(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", UsageErr("unexpected arguments %q", fs.Args())
	}
	return config.FindRoot(*repo)
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
