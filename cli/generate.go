package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"lore/config"
	"lore/handoff"
	"lore/handoff/tier"
	"lore/internal/cmdline"
)

const generateUsage = `Usage: lore generate [--plan NAME | --plan-file FILE] [--dry-run] [--apply] [--json [--edits]] [--repo DIR]

Hands the code of a plan to the larger tier configured under [tier.large]
(see docs/handoff.md): sends it the plan, the full text of the files the plan
names and the repository map (secrets withheld or replaced by placeholders),
streams its answer, applies its edit blocks, sends failed blocks back for
repair (up to 2 rounds), runs the check command on the edits in a scratch
worktree when one is set, and then:

  without --apply  prints the unified diff (git apply takes it); writes nothing
  with --apply     writes every changed file or none, and refuses when a file
                   changed on disk since the plan's files were read

Plans come from ask --plan "goal" (saved as NAME.md in the repository's plans
folder); without --plan or --plan-file the newest plan is used.

--dry-run prints the exact HTTP request that would be sent (the key as ***)
and sends nothing. Progress goes to stderr. Exit codes: 0 done, 1 failed
(nothing written), 2 usage, 130 interrupted (nothing written).
`

func runGenerate(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore generate", generateUsage, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	planName := fs.String("plan", "", "the plan called NAME (ask --plan wrote it)")
	planFile := fs.String("plan-file", "", "read the plan from this Markdown file")
	dryRun := fs.Bool("dry-run", false, "print the request that would be sent; send nothing")
	apply := fs.Bool("apply", false, "write the edits (all files or none)")
	asJSON := fs.Bool("json", false, "print one JSON report: files changed, blocks applied and failed, repair rounds, tokens, time")
	withEdits := fs.Bool("edits", false, "with --json: include each changed file's new text (editors apply them as a workspace edit)")
	root, err := cmdline.ParseRepo(fs, args, repo)
	if err != nil {
		return err
	}
	if *planName != "" && *planFile != "" {
		return cmdline.UsageErr("give --plan or --plan-file, not both")
	}
	if *dryRun && *apply {
		return cmdline.UsageErr("--dry-run sends nothing, so there is nothing to --apply")
	}
	s, err := config.Load(root)
	if err != nil {
		return cmdline.WithCode(cmdline.ExitUsage, err)
	}
	name, path, err := findPlan(root, *planName, *planFile)
	if err != nil {
		return err
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the plan: %w", err)
	}
	if *planName == "" && *planFile == "" {
		fmt.Fprintf(stderr, "using the newest plan, %s (%s)\n", name, path)
	}

	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	prog := cmdline.NewProgress(stderr)
	received, started := 0, time.Now()
	rep, err := handoff.Run(ctx, handoff.Options{
		Root: root, Settings: s, Plan: string(text), PlanName: name, DryRun: *dryRun, Apply: *apply, WithEdits: *withEdits,
		Status: func(msg string) {
			received, started = 0, time.Now()
			prog.Printf("%s", msg)
			if !cmdline.IsTerminal(stderr) && !*asJSON {
				fmt.Fprintln(stderr, msg)
			}
		},
		OnText: func(t string) {
			received += len(t)
			prog.Printf("receiving the answer: ~%d tokens in %.0fs", received/4, time.Since(started).Seconds())
		},
	})
	prog.Clear()
	if rep != nil && *asJSON {
		rep.Diff = strings.TrimSpace(rep.Diff)
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return jerr
		}
	}
	if err != nil {
		var te *tier.Error
		if errors.As(err, &te) && te.Kind == tier.ErrCanceled {
			return cmdline.WithCode(cmdline.ExitInterrupted, err)
		}
		return err
	}
	if *asJSON {
		return nil
	}
	switch {
	case *dryRun:
		io.WriteString(stdout, rep.Request)
		fmt.Fprintf(stderr, "dry run: nothing sent; %d files (~%d tokens, %.1f%% of the pack's ~%d), %d secrets replaced, %d files withheld\n",
			len(rep.FilesSent), rep.SentTokens, 100*rep.SentShare, rep.PackTokens, rep.Redacted, len(rep.FilesWithheld))
	case rep.Applied:
		for _, f := range rep.FilesChanged {
			fmt.Fprintf(stdout, "%s %s\n", f.Action, f.Path)
		}
	default:
		io.WriteString(stdout, rep.Diff)
	}
	if len(rep.UnknownPaths) > 0 {
		fmt.Fprintf(stderr, "note: the plan names paths not in the tree: %s\n", strings.Join(rep.UnknownPaths, ", "))
	}
	for _, w := range rep.FilesWithheld {
		fmt.Fprintf(stderr, "note: %s was not sent (%s)\n", w.Path, w.Reason)
	}
	if !*dryRun {
		fmt.Fprintf(stderr, "%d blocks applied, %d repair rounds; %d input tokens (%d cached), %d output tokens; %.1fs\n",
			rep.BlocksApplied, rep.RepairRounds, rep.Usage.Input, rep.Usage.Cached, rep.Usage.Output, rep.Seconds)
		if !rep.Applied {
			fmt.Fprintln(stderr, "nothing written: rerun with --apply to write the edits, or pipe the diff to git apply")
		}
	}
	return nil
}

// findPlan resolves --plan and --plan-file; with neither, the newest plan.
func findPlan(root, name, file string) (string, string, error) {
	if file != "" {
		return strings.TrimSuffix(filepath.Base(file), ".md"), file, nil
	}
	if name != "" {
		p := config.PlanFile(root, name)
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("no plan called %s (%s): write one with ask --plan \"goal\", or pass --plan-file", name, p)
		}
		return name, p, nil
	}
	entries, err := os.ReadDir(config.PlansDir(root))
	type plan struct {
		name string
		mod  time.Time
	}
	var plans []plan
	for _, e := range entries {
		if info, ierr := e.Info(); ierr == nil && strings.HasSuffix(e.Name(), ".md") && info.Mode().IsRegular() {
			plans = append(plans, plan{strings.TrimSuffix(e.Name(), ".md"), info.ModTime()})
		}
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) || len(plans) == 0 {
		return "", "", cmdline.UsageErr("no plan yet: write one with ask --plan \"goal\", or pass --plan-file FILE")
	}
	slices.SortFunc(plans, func(a, b plan) int { return b.mod.Compare(a.mod) })
	return plans[0].name, config.PlanFile(root, plans[0].name), nil
}
