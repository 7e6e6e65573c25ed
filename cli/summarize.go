package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

func runSummarize(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore summarize", `Usage: lore summarize [--repo DIR] [--json] [--max-tokens N] [REV | A..B]
       lore summarize --missing [-n N] [REV-RANGE]

Summarizes changes with the whole repository as context: by default the
working tree against HEAD (what the editors' lore.summarizeChanges does),
else one commit against its parent, or what B brought since A. Lock,
generated, vendored and secret files go in by name only; a diff larger than
the room kept for a question is reduced per file. It runs at hook priority
(interactive questions go first) and starts the daemon when none runs.

With --missing, the N newest commits of REV-RANGE (default HEAD) that have
no summary note under refs/notes/lore (a hook that found no daemon, a
failed summary) are queued for the daemon to summarize in the background;
lore log shows the notes as they are written.
`, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	maxTokens := fs.Int("max-tokens", 0, "the summary's length limit in tokens (0: 256)")
	missing := fs.Bool("missing", false, "queue summary notes for the commits that have none")
	n := fs.IntP("count", "n", 50, "with --missing: how many of the newest commits to look at")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return cmdline.UsageErr("give at most one revision or range, not %q", fs.Args())
	}
	root, err := config.FindRoot(*repo)
	if err != nil {
		return err
	}
	var queue []string
	if *missing {
		if queue, err = commitsWithoutNotes(root, fs.Arg(0), *n); err != nil {
			return err
		}
		if len(queue) == 0 {
			fmt.Fprintln(stdout, "every commit looked at has a summary note")
			return nil
		}
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	cctx, ccancel := context.WithTimeout(ctx, api.WaitTimeout)
	c, err := api.Connect(cctx, root, api.ConnectOptions{Start: true})
	ccancel()
	if err != nil {
		return err
	}
	defer c.Close()
	if *missing {
		for _, commit := range queue {
			if err := c.Note(ctx, api.NoteParams{Commit: commit}); err != nil {
				return err
			}
		}
		// The notifications are written; a status call makes sure the
		// daemon read them before the connection closes.
		if _, err := c.Status(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "queued %d commits without a summary note (lore log shows them as they are written)\n", len(queue))
		return nil
	}
	prog := cmdline.NewProgress(stderr)
	onToken := func(s string) {
		prog.Clear()
		if !*asJSON {
			io.WriteString(stdout, s)
		}
	}
	res, err := c.Summarize(ctx, api.SummarizeParams{Range: fs.Arg(0), MaxTokens: *maxTokens}, onToken, prog.Show)
	prog.Clear()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if res.NoChanges {
		fmt.Fprintln(stdout, res.Text)
		return nil
	}
	fmt.Fprintln(stdout)
	for _, f := range res.Files {
		if f.Reduced != "" {
			fmt.Fprintf(stderr, "lore: %s: %s\n", f.Path, f.Reduced)
		}
	}
	return nil
}

// commitsWithoutNotes lists, oldest first, the n newest commits of rng
// that have no note under api.NotesRef.
func commitsWithoutNotes(root, rng string, n int) ([]string, error) {
	if rng == "" {
		rng = "HEAD"
	}
	if strings.HasPrefix(rng, "-") {
		return nil, cmdline.UsageErr("%q is no revision range", rng)
	}
	if n <= 0 {
		return nil, cmdline.UsageErr("-n %d: give how many commits to look at (1 or more)", n)
	}
	log, err := gitIn(root, "log", "--format=%H", "-n", fmt.Sprint(n), "--end-of-options", rng, "--")
	if err != nil {
		return nil, err
	}
	// git notes list fails when the notes ref does not exist yet.
	notes, _ := gitIn(root, "notes", "--ref="+api.NotesRef, "list")
	noted := map[string]bool{}
	for _, line := range strings.Split(notes, "\n") {
		if _, commit, ok := strings.Cut(line, " "); ok {
			noted[commit] = true
		}
	}
	var out []string
	for _, c := range strings.Fields(log) {
		if !noted[c] {
			out = append(out, c)
		}
	}
	slices.Reverse(out)
	return out, nil
}
