package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

// logEntry is a commit with its lore summary.
type logEntry struct {
	Commit  string `json:"commit"`
	Subject string `json:"subject"`
	Summary string `json:"summary"` // "" when the commit has no note yet
}

func runLog(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore log", `Usage: lore log [--repo DIR] [-n N] [--json] [REV-RANGE]

Lists commits (default: HEAD's history) with the summaries lore keeps as
git notes under `+api.NotesRef+` (written by the post-commit and
post-merge hooks; see lore hook install).
`, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	n := fs.IntP("max-count", "n", 10, "how many commits")
	asJSON := fs.Bool("json", false, "print a JSON array of {commit, subject, summary}")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return cmdline.UsageErr("give at most one revision range, not %q", fs.Args())
	}
	if *n <= 0 {
		return cmdline.UsageErr("-n %d: give how many commits to list (1 or more)", *n)
	}
	rng := "HEAD"
	if fs.NArg() == 1 {
		rng = fs.Arg(0)
	}
	if strings.HasPrefix(rng, "-") {
		return cmdline.UsageErr("%q is no revision range", rng)
	}
	root, err := config.FindRoot(*repo)
	if err != nil {
		return err
	}
	out, err := gitIn(root, "-c", "core.quotepath=off", "log", "--no-color", "--no-notes", "--notes="+api.NotesRef,
		"--format=%H%x1f%s%x1f%N%x1e", "-n", fmt.Sprint(*n), "--end-of-options", rng, "--")
	if err != nil {
		return err
	}
	var entries []logEntry
	for _, rec := range strings.Split(out, "\x1e") {
		f := strings.Split(strings.TrimLeft(rec, "\n"), "\x1f")
		if len(f) != 3 {
			continue
		}
		entries = append(entries, logEntry{Commit: f[0], Subject: f[1], Summary: strings.TrimSpace(f[2])})
	}
	if *asJSON {
		if entries == nil {
			entries = []logEntry{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	for i, e := range entries {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s %s\n", e.Commit[:min(12, len(e.Commit))], e.Subject)
		summary := e.Summary
		if summary == "" {
			summary = "(no summary yet)"
		}
		fmt.Fprintf(stdout, "    %s\n", strings.ReplaceAll(summary, "\n", "\n    "))
	}
	return nil
}
