package cli

import (
	"errors"
	flag "github.com/spf13/pflag"
	"io"
	"log/slog"
	"os"

	"lore/config"
	"lore/internal/cmdline"
	"lore/lsp"
)

const lspUsage = `Usage: lore lsp [--repo DIR] [--no-start] [--log-level LEVEL] [engine flags]

Runs lore's Language Server Protocol server on stdin/stdout, for an editor
to start. It forwards to the repository's daemon (starting it in the
background when none runs, with the engine flags given here), so every
editor and the ask CLI share one daemon and one KV cache.

The repository is --repo, else the editor's workspace root (initialize's
rootUri or first workspace folder), else the current directory's.

Served: code actions (Ask lore about this, Explain with repository context,
Plan a change here), the commands lore.ask, lore.explain, lore.plan,
lore.status and lore.summarizeChanges, unsaved buffers (the daemon answers
on the editor's text), work-done progress and cancellation, hover (with the
"hover" setting), and the custom requests lore/ask (streamed answers) and
lore/status. docs/editors.md documents the protocol and the editor setups.

Logs go to stderr. Exit codes: 0 after shutdown and exit (or when stdin
ends), 1 for exit without shutdown.
`

func runLSP(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore lsp", lspUsage, stdout)
	repo := fs.String("repo", "", "repository (default: the editor's workspace root, else the current directory's)")
	noStart := fs.Bool("no-start", false, "do not start a daemon when none runs")
	level := fs.String("log-level", "info", "log level on stderr: debug, info, warn or error")
	cmdline.RegisterEngineFlags(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cmdline.UsageErr("unexpected arguments %q", fs.Args())
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return cmdline.UsageErr("--log-level: %v", err)
	}
	opts := lsp.Options{
		NoStart: *noStart,
		Logger:  slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})),
	}
	if *repo != "" {
		root, err := config.FindRoot(*repo)
		if err != nil {
			return err
		}
		opts.Root = root
	}
	// A daemon started from here gets the engine flags given here.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "repo", "no-start", "log-level":
		default:
			opts.DaemonArgs = append(opts.DaemonArgs, "--"+f.Name+"="+f.Value.String())
		}
	})
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	// stdout is the protocol's: nothing else may write there.
	code := lsp.Serve(ctx, os.Stdin, stdout, opts)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if code != 0 {
		return cmdline.WithCode(code, errors.New("the editor sent exit without shutdown"))
	}
	return nil
}
