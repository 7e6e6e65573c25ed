package bench

import (
	"encoding/json"
	"fmt"
	"io"

	"lore/internal/cmdline"
)

func runFreshness(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench freshness", subUsage("freshness"), stdout)
	repo := fs.String("repo", "", "repository with history: a work tree or a bare clone (required)")
	commits := fs.Int("commits", 200, "first-parent commits to replay")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *repo == "" {
		return cmdline.UsageErr("--repo is required")
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	prog := cmdline.NewProgress(stderr)
	rep, err := replayFreshness(ctx, *repo, freshnessOptions{
		Commits:  *commits,
		Progress: func(i, n int) { prog.Printf("replaying commit %d/%d", i, n) },
	})
	prog.Clear()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "%s: %d commits, pack %d tokens at the start, %d changed tokens in all\n", rep.Repo, rep.Commits, rep.PackTokens, rep.ChangedTokens)
	fmt.Fprintf(stdout, "%-22s %18s %12s %12s %10s\n", "policy", "foreground median", "foreground", "total", "max stale")
	for _, r := range rep.Results {
		fmt.Fprintf(stdout, "%-22s %17.2fx %11.2fx %11.2fx %9.1f%%\n", r.Policy, r.ForegroundMedian, r.ForegroundRatio, r.TotalRatio, 100*r.MaxStaleFraction)
	}
	return nil
}
