// Package cmdline holds what the lore, ask and benchmark command lines share:
// exit codes, flag parsing, the engine settings flags, a terminal progress
// line and stopping a daemon. It imports only api and config, so that ask,
// which uses it, stays a thin client of the daemon.
package cmdline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	flag "github.com/spf13/pflag"
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

// rpcFrame is how the JSON-RPC library renders an error it carries: the
// code means nothing to a user, the message after it is what they read.
var rpcFrame = regexp.MustCompile(`jsonrpc2: code -?[0-9]+ message: `)

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
	fmt.Fprintf(stderr, "%s: %s\n", prog, rpcFrame.ReplaceAllString(err.Error(), ""))
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
// Flags may come before, between or after the arguments; "--" ends them.
// The usage text, with the flags, goes to out on --help (give stdout: help
// is output the user asked for, not an error).
func NewFlagSet(name, usage string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses flags. --help prints the usage and returns flag.ErrHelp; a
// flag error becomes a one-line usage error, with the likeliest meant flag
// when the flag is unknown. Long flags written with one dash (-repo, the
// form lore took before) are still understood.
func Parse(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	err := fs.Parse(oneDashLongFlags(fs, args))
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return FlagError(fs, err)
	}
	return nil
}

// oneDashLongFlags rewrites -name and -name=value into --name forms for the
// flags fs defines, up to a "--".
func oneDashLongFlags(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 1 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if f := fs.Lookup(name); f != nil && (len(name) > 1 || f.Shorthand == "") {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// FlagError turns a flag parsing error into a one-line usage error that
// names the flag meant when an unknown one is close to a defined one.
func FlagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	for _, prefix := range []string{"unknown flag: --", "unknown shorthand flag: "} {
		rest, ok := strings.CutPrefix(msg, prefix)
		if !ok {
			continue
		}
		name := rest
		if prefix != "unknown flag: --" {
			// "'x' in -xyz"
			name = strings.Trim(strings.SplitN(rest, " ", 2)[0], "'")
		}
		var names []string
		fs.VisitAll(func(f *flag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		if s := Suggest(name, names); s != "" {
			return UsageErr("%s (did you mean --%s?)", msg, s)
		}
		return UsageErr("%s (see --help)", msg)
	}
	return WithCode(ExitUsage, err)
}

// Suggest returns the candidate closest to word, or "" when none is close:
// within a third of the word's length in edits, or one that starts with it.
func Suggest(word string, candidates []string) string {
	best, bestD := "", len(word)/3+1
	for _, c := range candidates {
		if strings.HasPrefix(c, word) && len(word) >= 2 {
			return c
		}
		if d := editDistance(word, c); d < bestD || (d == bestD && best == "" && d <= 2) {
			best, bestD = c, d
		}
	}
	if bestD > 2 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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

// RepoRoot is the repository a command that asks works on: the folder
// --repo names, as it is, or the git repository around the current folder.
// Outside of one it refuses: packing the current folder (the home folder,
// say) is rarely what was meant.
func RepoRoot(repo string) (string, error) {
	root, err := config.FindRoot(repo)
	if err != nil || repo != "" {
		return root, err
	}
	if _, err := os.Lstat(filepath.Join(root, ".git")); err != nil {
		return "", UsageErr("%s is not inside a git repository: run this in one, or give --repo %s to use this folder as it is", root, root)
	}
	return root, nil
}
