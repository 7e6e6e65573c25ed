package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	flag "github.com/spf13/pflag"
	"io"
	"log/slog"
	"time"

	"lore/api"
	"lore/config"
	"lore/daemon"
	"lore/engine"
	"lore/ingest/layout"
	"lore/internal/cmdline"
)

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
`, stdout)
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
	fs := cmdline.NewFlagSet("lore status", `Usage: lore status [--repo DIR] [--json] [--verbose]

Shows the state of the repository's daemon: the model, how much of the
repository is in the model's context (files in full, as signatures, only in
the map), how much of it the KV cache holds, the speed, and any prefill in
progress. --verbose adds the internal counters (overlay, token cache,
retrieval allowance, disk reserve). Exits 3 when no daemon runs.
`, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	verbose := fs.Bool("verbose", false, "add the internal counters")
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
	printStatus(stdout, st, *verbose)
	return nil
}

func runStop(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore stop", `Usage: lore stop [--repo DIR | --all]

Stops the repository's daemon, or with --all every lore daemon of this user
(those lore ps lists); each saves its KV snapshot first. Exits 3 when no
daemon runs for the repository.
`, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	all := fs.Bool("all", false, "stop every lore daemon of this user")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for a daemon to exit")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cmdline.UsageErr("unexpected arguments %q (the repository is given with --repo)", fs.Args())
	}
	if *all {
		if *repo != "" {
			return cmdline.UsageErr("give --repo or --all, not both")
		}
		return stopAll(*wait, stdout)
	}
	root, err := config.FindRoot(*repo)
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
