package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"lore/api"
	"lore/config"
	"lore/daemon"
	"lore/engine"
	"lore/ingest/layout"
	"lore/internal/bench"
	"lore/internal/bytesize"
	"lore/internal/cmdline"
)

const loreUsage = `lore keeps a whole repository in a local model's context.

Usage:
  lore <command> [flags]

Commands:
  daemon     run the repository's daemon (foreground; --detach for background)
  status     show the daemon's pack, cache and engine state
  stop       stop the repository's daemon (it saves its KV snapshot first)
  logs       print (or follow with -f) the background daemon's log
  pack       write the repository's pack (xml, markdown or json), optionally within a token budget
  model      download, list and inspect GGUF models; generate test models (pull, ls, info, synth)
  bench      run lore's benchmarks (lore bench spine|freshness|ingest|daemon|lsp)
  config     show the effective settings and their sources (lore config show|path)
  session    list, show, export or delete planning sessions (ask --session NAME)
  summarize  summarize the uncommitted changes, a commit or a range A..B
  hook       install, remove or inspect lore's git hooks (commit-message drafts)
  log        commits with the summaries lore keeps as git notes
  lsp        run the Language Server Protocol server an editor starts (stdio)

Run 'lore <command> --help' for a command's flags. Questions are asked with
the ask command: ask "how does X work?"
`

// Lore runs the lore command line and returns its exit code.
func Lore(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, loreUsage)
		return cmdline.ExitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "daemon":
		err = runDaemon(rest, stdout, stderr)
	case "status":
		err = runStatus(rest, stdout, stderr)
	case "stop":
		err = runStop(rest, stdout, stderr)
	case "model":
		err = runModel(rest, stdout, stderr)
	case "pack":
		err = runPack(rest, stdout, stderr)
	case "logs":
		err = runLogs(rest, stdout, stderr)
	case "session":
		err = runSession(rest, stdout, stderr)
	case "summarize":
		err = runSummarize(rest, stdout, stderr)
	case "hook":
		err = runHook(rest, stdout, stderr)
	case "log":
		err = runLog(rest, stdout, stderr)
	case "bench":
		err = bench.Run(rest, stdout, stderr)
	case "config":
		err = runConfig(rest, stdout, stderr)
	case "lsp":
		err = runLSP(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, loreUsage)
		return cmdline.ExitOK
	default:
		fmt.Fprint(stderr, loreUsage)
		err = cmdline.UsageErr("unknown command %q", cmd)
	}
	return cmdline.Finish("lore", stderr, err)
}

func runDaemon(args []string, stdout, stderr io.Writer) (err error) {
	// The client that started this daemon hears why it stops even when the
	// log cannot take it (a full disk).
	if w := api.ReasonWriter(); w != nil {
		defer func() {
			if err != nil {
				fmt.Fprintf(w, "%v\n", err)
			}
			w.Close()
		}()
	}
	fs := cmdline.NewFlagSet("lore daemon", `Usage: lore daemon [--repo DIR] [--detach] [engine flags]

Runs the repository's daemon in the foreground: it scans the repository,
prefills the pack into the model's KV cache (restoring the saved snapshot
first), and serves questions on a unix socket until SIGINT/SIGTERM or
'lore stop', saving the snapshot on the way out. Logs go to stderr.
`, stderr)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	detach := fs.Bool("detach", false, "start the daemon in the background and return once it listens")
	cmdline.RegisterEngineFlags(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cmdline.UsageErr("unexpected arguments %q (the repository is given with --repo)", fs.Args())
	}
	root, err := config.FindRoot(*repo)
	if err != nil {
		return err
	}
	s, err := cmdline.Settings(fs, root)
	if err != nil {
		return err
	}
	if *detach {
		// The background daemon gets the same flags, less --detach.
		var pass []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "detach" && f.Name != "repo" {
				pass = append(pass, "--"+f.Name+"="+f.Value.String())
			}
		})
		return detachDaemon(root, pass, stdout)
	}
	if err := daemon.RotateLog(root); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	policy := layout.SettingsPolicy(s)
	d, err := daemon.New(daemon.Options{
		Repo:             root,
		Engine:           engine.SettingsConfig(s),
		OpenEngine:       openEngine(s, root, log),
		EngineLabel:      engineLabel(s),
		Scan:             scanOptions(s),
		Policy:           policy,
		SnapshotBudget:   s.SnapshotBudget,
		IdleShutdown:     s.IdleShutdown,
		RetrievalLatency: s.RetrievalLatency,
		Logger:           log,
		NoWatch:          config.WatchOff(),
	})
	if err != nil {
		return err
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	if err := d.Run(ctx); err != nil {
		if errors.Is(err, daemon.ErrAlreadyRunning) {
			return cmdline.WithCode(cmdline.ExitRunning, err)
		}
		return err
	}
	return nil
}

func detachDaemon(root string, args []string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), api.WaitTimeout)
	defer cancel()
	started := false
	c, err := api.Connect(ctx, root, api.ConnectOptions{Start: true, Args: args, OnStart: func(log string) {
		started = true
		fmt.Fprintf(stdout, "lore daemon starting for %s (log: %s)\n", root, log)
	}})
	if err != nil {
		return err
	}
	defer c.Close()
	if !started {
		return cmdline.WithCode(cmdline.ExitRunning, fmt.Errorf("%w: %s", daemon.ErrAlreadyRunning, root))
	}
	return nil
}

func runStatus(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore status", `Usage: lore status [--repo DIR] [--json]

Shows the state of the repository's daemon: the model, the pack (tokens,
segments, files reduced to fit the context), the KV prefix (valid tokens,
tokens prefilled since start, tokens restored from the snapshot) and any
prefill in progress. Exits 3 when no daemon runs.
`, stderr)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	root, err := cmdline.ParseRepo(fs, args, repo)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := api.Connect(ctx, root, api.ConnectOptions{})
	if err != nil {
		if errors.Is(err, api.ErrNotRunning) {
			if *asJSON {
				json.NewEncoder(stdout).Encode(map[string]string{"repo": root, "state": "stopped"})
			}
			return cmdline.WithCode(cmdline.ExitNotRunning, fmt.Errorf("no lore daemon runs for %s (start one with `lore daemon --repo %s`, or just ask a question)", root, root))
		}
		return err
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(stdout, st)
	return nil
}

func printStatus(w io.Writer, st *api.Status) {
	fmt.Fprintf(w, "repository   %s\n", st.Repo)
	fmt.Fprintf(w, "daemon       pid %d, %s, up %s\n", st.PID, st.State, time.Duration(st.UptimeSeconds*float64(time.Second)).Round(time.Second))
	if st.Error != "" {
		fmt.Fprintf(w, "error        %s\n", st.Error)
	}
	fmt.Fprintf(w, "model        %s (%s), context %d tokens\n", st.Model, st.ModelPath, st.ContextSize)
	fmt.Fprintf(w, "pack         %d tokens, %d segments, %d files, version %s\n", st.PackTokens, st.Segments, st.Files, st.PackVersion)
	fmt.Fprintf(w, "kv prefix    %d valid tokens; %d prefilled since start, %d restored from snapshot\n", st.KVTokens, st.PrefilledTokens, st.RestoredTokens)
	fmt.Fprintf(w, "overlay      %d tokens of edits, %d stale tokens, %d unsaved editor buffers\n", st.OverlayTokens, st.StaleTokens, st.Buffers)
	if st.LastPrefillTokens > 0 {
		fmt.Fprintf(w, "last sync    %d tokens prefilled in %.0f ms, at %s\n", st.LastPrefillTokens, st.LastPrefillMillis, st.LastPrefillAt.Local().Format("15:04:05.000"))
	}
	printEngineStatus(w, st)
	fmt.Fprintf(w, "engine       prefill %.0f tokens/s, decode %.1f tokens/s, %s resident\n",
		st.PrefillTokensPerSec, st.DecodeTokensPerSec, bytesize.Format(st.MemoryBytes))
	if st.RetrievalAllowance > 0 {
		fmt.Fprintf(w, "retrieval    up to %d tokens of files per question (prefill speed × retrieval_latency, within the room the context leaves)\n", st.RetrievalAllowance)
	}
	if note := api.SeenNote(st.LastRetrievedFull, st.LastRetrieved); note != "" {
		fmt.Fprintf(w, "last answer  retrieved: %s\n", note)
	}
	fmt.Fprintf(w, "questions    %d running, %d queued; %d planning sessions\n", st.ActiveQuestions, st.QueuedQuestions, st.Sessions)
	if st.SnapshotBytes > 0 {
		fmt.Fprintf(w, "snapshot     %s\n", bytesize.Format(st.SnapshotBytes))
	}
	if n := len(st.Snapshots); n > 0 {
		var total int64
		for _, s := range st.Snapshots {
			total += s.Bytes
		}
		fmt.Fprintf(w, "on disk      %d snapshots (branches and sessions), %s\n", n, bytesize.Format(total))
	}
	if d := st.SnapshotDiscarded; d != nil {
		fmt.Fprintf(w, "discarded    snapshot %s at %s: %s\n", d.Name, d.At.Local().Format("15:04:05"), d.Reason)
	}
	if d := st.Disk; d != nil {
		if d.Full {
			fmt.Fprintf(w, "disk         %s\n", d.Message)
		} else {
			fmt.Fprintf(w, "disk         %s free in %s (the cache writes while over %s)\n", bytesize.Format(d.FreeBytes), d.Dir, bytesize.Format(d.ReserveBytes))
		}
	}
	if n := st.TokenCacheHits + st.TokenCacheMisses; n > 0 {
		fmt.Fprintf(w, "token cache  %d of %d segment tokenizations served from the cache\n", st.TokenCacheHits, n)
	}
	if st.Progress != nil && st.Progress.Total > 0 {
		fmt.Fprintf(w, "prefilling   %d/%d tokens (%d%%)\n", st.Progress.Done, st.Progress.Total, 100*st.Progress.Done/st.Progress.Total)
	}
	if st.Skipped > 0 {
		fmt.Fprintf(w, "skipped      %d files or folders (binary, too large, vendored, generated, secrets; `lore pack --stats` lists them)\n", st.Skipped)
	}
	if len(st.Omitted) > 0 {
		var skel, mapped []string
		for _, o := range st.Omitted {
			if o.Reason == api.OmitSkeleton {
				skel = append(skel, o.Path)
			} else {
				mapped = append(mapped, o.Path)
			}
		}
		fmt.Fprintf(w, "reduced      %d files do not fit the context in full: %d as signatures, %d only in the map (`lore status --json` lists them)\n",
			len(st.Omitted), len(skel), len(mapped))
	}
}

func runStop(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore stop", `Usage: lore stop [--repo DIR]

Stops the repository's daemon; it saves its KV snapshot first. Exits 3 when
no daemon runs.
`, stderr)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the daemon to exit")
	root, err := cmdline.ParseRepo(fs, args, repo)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *wait)
	defer cancel()
	c, err := api.Connect(ctx, root, api.ConnectOptions{})
	if err != nil {
		if errors.Is(err, api.ErrNotRunning) {
			return cmdline.WithCode(cmdline.ExitNotRunning, fmt.Errorf("no lore daemon runs for %s", root))
		}
		return err
	}
	defer c.Close()
	if pid, err := cmdline.StopDaemon(ctx, c); errors.Is(err, cmdline.ErrNoExit) {
		return fmt.Errorf("the daemon (pid %d) did not exit within %s", pid, *wait)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lore daemon for %s stopped\n", root)
	return nil
}
