package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"lore/api"
	"lore/config"
	"lore/daemon"
	"lore/internal/atomicfile"
	"lore/internal/cmdline"
)

const sessionIntro = `Planning sessions are named conversations on top of the repository's
context: ask --session NAME "..." starts or continues one. Each turn is kept
with the KV of the conversation so far, so the next turn does not compute
the earlier ones again; once the repository has changed, the transcript is
replayed on the fresh pack (and the answer says so).
`

// sessionUsages are the help texts of lore session's commands.
var sessionUsages = map[string]string{
	"list": `Usage: lore session list [--repo DIR] [--json]

Lists the repository's planning sessions, most recently used first. It asks
the running daemon, or reads the list the last daemon left; it never starts
one.

` + sessionIntro,
	"show": `Usage: lore session show NAME [--repo DIR] [--json]

Prints a session's transcript (Markdown, or the session with --json). Starts
the repository's daemon when none runs (the sessions live in its cache).

` + sessionIntro,
	"export": `Usage: lore session export NAME [--repo DIR] [-o FILE]

Writes a session as Markdown, to stdout or FILE. Starts the repository's
daemon when none runs.

` + sessionIntro,
	"rm": `Usage: lore session rm NAME [--repo DIR]

Deletes a session and its saved KV. Starts the repository's daemon when none
runs.

` + sessionIntro,
}

// runSession runs lore session CMD; args[0] is the command.
func runSession(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cmdline.UsageErr("lore session needs a command: list, show, export or rm")
	}
	cmd, rest := args[0], args[1:]
	usage, ok := sessionUsages[cmd]
	if !ok {
		return cmdline.UsageErr("unknown session command %q", cmd)
	}
	fs := cmdline.NewFlagSet("lore session "+cmd, usage, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	var asJSON *bool
	if cmd == "list" || cmd == "show" {
		asJSON = fs.Bool("json", false, "print JSON")
	}
	out := ""
	if cmd == "export" {
		fs.StringVarP(&out, "output", "o", "", "write the Markdown to this file instead of stdout")
	}
	if err := cmdline.Parse(fs, rest); err != nil {
		return err
	}
	var name string
	switch {
	case cmd == "list" && fs.NArg() != 0:
		return cmdline.UsageErr("lore session list takes no arguments")
	case cmd != "list" && fs.NArg() != 1:
		return cmdline.UsageErr("lore session %s takes one session name", cmd)
	case cmd != "list":
		name = fs.Arg(0)
	}
	if cmd == "list" {
		root, err := config.FindRoot(*repo)
		if err != nil {
			return err
		}
		return listSessions(root, *asJSON, stdout)
	}
	root, err := config.FindRoot(*repo)
	if err != nil {
		return err
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, api.WaitTimeout)
	defer cancelT()
	c, err := api.Connect(ctx, root, api.ConnectOptions{Start: true})
	if err != nil {
		return err
	}
	defer c.Close()

	switch cmd {
	case "rm":
		if err := c.DeleteSession(ctx, name); err != nil {
			return sessionErr(err)
		}
		fmt.Fprintf(stdout, "session %s deleted\n", name)
		return nil
	}
	s, err := c.Session(ctx, name)
	if err != nil {
		return sessionErr(err)
	}
	if cmd == "show" && *asJSON {
		return json.NewEncoder(stdout).Encode(s)
	}
	if out == "" || out == "-" {
		return writeSessionMarkdown(stdout, s)
	}
	var b strings.Builder
	writeSessionMarkdown(&b, s)
	return atomicfile.Write(out, []byte(b.String()), 0o644)
}

// listSessions prints the sessions: the running daemon's, else the list the
// last daemon wrote. It starts no daemon: listing is reading.
func listSessions(root string, asJSON bool, stdout io.Writer) error {
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 10*time.Second)
	defer cancelT()
	var list []api.SessionInfo
	c, err := api.Connect(ctx, root, api.ConnectOptions{})
	switch {
	case err == nil:
		defer c.Close()
		if list, err = c.Sessions(ctx); err != nil {
			return err
		}
	case errors.Is(err, api.ErrNotRunning):
		if list, err = daemon.ReadSessionIndex(config.RepoStateDir(root)); err != nil {
			return fmt.Errorf("reading the session list of %s: %w", root, err)
		}
	default:
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, `no sessions: start one with ask --session NAME "..."`)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTURNS\tUPDATED\tPACK\tKV TOKENS")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\n", s.Name, s.Turns, s.Updated.Local().Format(time.DateTime), s.PackVersion, s.KVTokens)
	}
	return tw.Flush()
}

// sessionErr gives a missing session its own exit code: 1 with a message
// naming the fix is what scripts and people need.
func sessionErr(err error) error {
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
		return errors.New(ae.Message)
	}
	return err
}

// writeSessionMarkdown renders a session as Markdown: one section per turn.
func writeSessionMarkdown(w io.Writer, s *api.Session) error {
	fmt.Fprintf(w, "# Planning session: %s\n\n", s.Name)
	fmt.Fprintf(w, "%d turns, started %s, last %s.\n", s.Turns, s.Created.Local().Format(time.DateTime), s.Updated.Local().Format(time.DateTime))
	for i, t := range s.Transcript {
		fmt.Fprintf(w, "\n## %d. %s\n\n", i+1, firstLine(t.Question))
		if strings.Contains(t.Question, "\n") {
			fmt.Fprintf(w, "%s\n\n", quote(t.Question))
		}
		note := ""
		if t.Replayed {
			note = "; the repository had changed, earlier turns were replayed"
		}
		fmt.Fprintf(w, "_%s, pack %s%s_\n\n", t.At.Local().Format(time.DateTime), t.PackVersion, note)
		fmt.Fprintf(w, "%s\n", strings.TrimRight(t.Answer, "\n"))
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func quote(s string) string {
	return "> " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n> ")
}
