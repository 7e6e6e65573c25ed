package cli

import (
	"context"
	"encoding/json"
	"errors"
	flag "github.com/spf13/pflag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"lore/api"
	"lore/config"
	"lore/internal/atomicfile"
	"lore/internal/cmdline"
)

const sessionUsage = `Usage: lore session <command> [--repo DIR] [flags]

Planning sessions are named conversations on top of the repository's
context: ask --session NAME "..." starts or continues one. Each turn is kept
with the KV of the conversation so far, so the next turn does not compute
the earlier ones again; once the repository has changed, the transcript is
replayed on the fresh pack (and the answer says so).

Commands:
  list          the sessions, most recently used first (--json)
  show NAME     a session's transcript (--json)
  export NAME   a session as Markdown (-o FILE, default stdout)
  rm NAME       delete a session and its saved KV

The commands start the repository's daemon when none runs.
`

func runSession(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, sessionUsage)
		if len(args) == 0 {
			return cmdline.UsageErr("no session command given")
		}
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	fs := cmdline.NewFlagSet("lore session "+cmd, sessionUsage, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	var asJSON *bool
	if cmd == "list" || cmd == "show" {
		asJSON = fs.Bool("json", false, "print JSON")
	}
	out := ""
	if cmd == "export" {
		fs.StringVarP(&out, "output", "o", "", "write the Markdown to this file instead of stdout")
	}
	switch cmd {
	case "list", "show", "export", "rm":
	default:
		fmt.Fprint(stderr, sessionUsage)
		return cmdline.UsageErr("unknown session command %q", cmd)
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
	case "list":
		list, err := c.Sessions(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
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
