package cli

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"lore/cli/ask"
	"lore/internal/bench"
	"lore/internal/cmdline"
)

// Lore runs the lore command line and returns its exit code.
func Lore(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	return cmdline.Finish("lore", stderr, root.Execute())
}

// runFunc is a command that parses its own flags (cmdline.Parse: flags
// anywhere, --help on stdout, one-line errors).
type runFunc func(args []string, stdout, stderr io.Writer) error

const rootLong = `lore keeps a whole repository in a local model's context.

Questions are asked with 'lore ask' (or the ask command, the same thing):
  lore ask "how does X work?"`

// newRoot builds lore's command tree. Each command parses its own flags (so
// that its help, its errors and the flags it shares with ask stay one piece
// of code); cobra dispatches, writes the command lists, help and shell
// completions.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:                "lore <command> [flags]",
		Short:              "keep a whole repository in a local model's context",
		Long:               rootLong,
		Args:               cobra.ArbitraryArgs,
		SilenceErrors:      true,
		SilenceUsage:       true,
		DisableSuggestions: true,
		Version:            Version(),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				c.Help()
				return cmdline.UsageErr("no command given")
			}
			return unknownCommand(c, args[0])
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	cobra.AddTemplateFunc("loreVersion", versionText)
	root.SetVersionTemplate("{{loreVersion}}")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return cmdline.FlagError(c.Flags(), err) })
	root.CompletionOptions.HiddenDefaultCmd = false

	leaf := func(use, short string, run runFunc) *cobra.Command {
		c := &cobra.Command{
			Use:                use,
			Short:              short,
			DisableFlagParsing: true,
			RunE: func(_ *cobra.Command, args []string) error {
				// The command printed its help itself: cobra, seeing
				// ErrHelp, would print it a second time.
				if err := run(args, stdout, stderr); !errors.Is(err, pflag.ErrHelp) {
					return err
				}
				return nil
			},
		}
		c.SetHelpFunc(func(*cobra.Command, []string) { run([]string{"--help"}, stdout, stderr) })
		c.ValidArgsFunction = func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if !strings.HasPrefix(toComplete, "-") {
				return nil, cobra.ShellCompDirectiveDefault
			}
			// The command's flags are its own (cobra does not parse
			// them): its help lists them.
			var help bytes.Buffer
			run([]string{"--help"}, &help, io.Discard)
			return helpFlags(help.String(), toComplete), cobra.ShellCompDirectiveNoFileComp
		}
		return c
	}
	sub := func(name string, run runFunc) runFunc {
		return func(args []string, stdout, stderr io.Writer) error {
			return run(append([]string{name}, args...), stdout, stderr)
		}
	}

	askCmd := leaf("ask [flags] QUESTION", "ask the repository's model a question (the same as the ask command)", ask.Run)
	root.AddCommand(
		askCmd,
		leaf("daemon [--repo DIR] [--detach]", "run the repository's daemon (foreground; --detach for background)", runDaemon),
		leaf("status [--repo DIR]", "show what the repository's daemon holds and how fast it runs", runStatus),
		leaf("ps", "list the lore daemons running for this user", runPS),
		leaf("stop [--repo DIR | --all]", "stop the repository's daemon, or all of them (each saves its KV snapshot first)", runStop),
		leaf("logs [--repo DIR] [-f]", "print (or follow) the background daemon's log", runLogs),
		leaf("pack [--repo DIR]", "write the repository's pack (xml, markdown or json), optionally within a token budget", runPack),
		leaf("generate [--plan NAME | --plan-file F]", "hand a plan (ask --plan) to the larger tier; print or --apply its edits", runGenerate),
		group("model", "download, list and inspect GGUF models; generate test models",
			leaf("pull NAME|hf:ORG/REPO/FILE.gguf|URL", "download a GGUF model into the models folder and make it the default", sub("pull", runModel)),
			alias(leaf("ls", "list the models in the models folder", sub("ls", runModel)), "list"),
			leaf("info FILE", "show a model's architecture, context and memory needs", sub("info", runModel)),
			leaf("use NAME", "make a model of the models folder the default", sub("use", runModel)),
			alias(leaf("rm NAME", "delete a model from the models folder", sub("rm", runModel)), "remove"),
			leaf("synth", "generate a random-weight model for tests and the demo", sub("synth", runModel)),
		),
		benchGroup(leaf),
		group("config", "show the effective settings and their sources",
			leaf("show [--repo DIR]", "print every effective setting and where it came from", runConfigShow),
			leaf("path [--repo DIR]", "print the user and repository config files", runConfigPath),
		),
		group("session", "list, show, export or delete planning sessions (ask --session NAME)",
			leaf("list [--repo DIR]", "the sessions, most recently used first", sub("list", runSession)),
			leaf("show NAME", "a session's transcript", sub("show", runSession)),
			leaf("export NAME", "a session as Markdown", sub("export", runSession)),
			leaf("rm NAME", "delete a session and its saved KV", sub("rm", runSession)),
		),
		leaf("summarize [REV | A..B]", "summarize the uncommitted changes, a commit or a range A..B", runSummarize),
		group("hook", "install, remove or inspect lore's git hooks (commit-message drafts, commit notes)",
			leaf("install [--repo DIR] [--force]", "install lore's git hooks", sub("install", runHook)),
			leaf("uninstall [--repo DIR]", "remove lore's hooks and put back what was there", sub("uninstall", runHook)),
			leaf("status [--repo DIR]", "what is installed where", sub("status", runHook)),
			hidden(leaf("run NAME ARGS...", "what the hooks run (git passes the arguments)", sub("run", runHook))),
		),
		leaf("log [REV-RANGE]", "commits with the summaries lore keeps as git notes", runLog),
		leaf("lsp", "run the Language Server Protocol server an editor starts (stdio)", runLSP),
		leaf("version", "print lore's version and the llama.cpp library's", runVersion),
	)
	return root
}

// group is a command that only holds subcommands: without one it prints its
// help and fails, with an unknown one it names the closest.
func group(name, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   name + " <command>",
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				c.SetOut(c.ErrOrStderr())
				c.Usage()
				return cmdline.UsageErr("lore %s needs a command: %s", name, strings.Join(subNames(c), ", "))
			}
			return unknownCommand(c, args[0])
		},
	}
	c.AddCommand(subs...)
	return c
}

func alias(c *cobra.Command, names ...string) *cobra.Command {
	c.Aliases = append(c.Aliases, names...)
	return c
}

func hidden(c *cobra.Command) *cobra.Command {
	c.Hidden = true
	return c
}

func subNames(c *cobra.Command) []string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() && s.Name() != "help" {
			names = append(names, s.Name())
		}
	}
	return names
}

// unknownCommand is the one-line error for a command c does not have.
func unknownCommand(c *cobra.Command, name string) error {
	var names []string
	for _, s := range c.Commands() {
		if !s.Hidden {
			names = append(names, s.Name())
			names = append(names, s.Aliases...)
		}
	}
	if s := cmdline.Suggest(name, names); s != "" {
		return cmdline.UsageErr("unknown command %q for %q; did you mean %q?", name, c.CommandPath(), s)
	}
	return cmdline.UsageErr("unknown command %q for %q (see '%s --help')", name, c.CommandPath(), c.CommandPath())
}

// flagInHelp is a flag's name at the start of a line of a Flags section.
var flagInHelp = regexp.MustCompile(`(?m)^\s+(?:-[a-zA-Z], )?(--[a-z0-9][a-z0-9-]*)`)

// helpFlags lists the long flags a command's help lists under "Flags:"
// that start with prefix.
func helpFlags(help, prefix string) []string {
	_, flags, _ := strings.Cut(help, "\nFlags:\n")
	var out []string
	for _, m := range flagInHelp.FindAllStringSubmatch(flags, -1) {
		if strings.HasPrefix(m[1], prefix) {
			out = append(out, m[1])
		}
	}
	return out
}

// benchGroup is lore bench: one subcommand per benchmark, each with its own
// help.
func benchGroup(leaf func(use, short string, run runFunc) *cobra.Command) *cobra.Command {
	short := map[string]string{
		"spine":     "cold, warm, restore and refill times of real daemons",
		"freshness": "prefill cost per commit, replaying a repository's history",
		"localize":  "whether the files a commit changed were in the model's context",
		"ingest":    "lore pack's time and memory, against repomix when installed",
		"daemon":    "edit-to-fresh, restart, parallel questions, branch switch",
		"lsp":       "the LSP bridge's latency and overhead",
		"batch":     "the engine's batching of parallel questions",
		"faults":    "kills, damaged snapshots and a full disk: each restart must answer",
		"hooks":     "the time lore's git hooks add to git commit",
		"apply":     "SEARCH/REPLACE blocks from real commits, perturbed, applied against git apply",
		"remote":    "llama-server against the in-process engine: warm first token, restart",
	}
	var subs []*cobra.Command
	for _, name := range bench.Names {
		subs = append(subs, leaf(name, short[name], func(args []string, stdout, stderr io.Writer) error {
			return bench.Run(append([]string{name}, args...), stdout, stderr)
		}))
	}
	return group("bench", "run lore's benchmarks (see docs and BENCHMARKS.md)", subs...)
}
