package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

func runSummarize(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore summarize", `Usage: lore summarize [--repo DIR] [--json] [--max-tokens N] [REV | A..B]

Summarizes changes with the whole repository as context: by default the
working tree against HEAD (what the editors' lore.summarizeChanges does),
else one commit against its parent, or what B brought since A. Lock,
generated, vendored and secret files go in by name only; a diff larger than
the room kept for a question is reduced per file. It runs at hook priority
(interactive questions go first) and starts the daemon when none runs.
`, stderr)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	maxTokens := fs.Int("max-tokens", 0, "the summary's length limit in tokens (0: 256)")
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
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	cctx, ccancel := context.WithTimeout(ctx, api.WaitTimeout)
	c, err := api.Connect(cctx, root, api.ConnectOptions{Start: true})
	ccancel()
	if err != nil {
		return err
	}
	defer c.Close()
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
