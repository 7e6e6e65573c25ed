// Package ask implements the ask command line. It is a thin client: it talks
// to the repository's daemon through package api and leaves the engine and
// the repository's reading to the daemon.
package ask

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

const askUsage = `Usage: ask [--repo DIR] [--json] [--session NAME] [--file PATH [--lines A-B]] [flags] "question"
       ask --plan [--session NAME] [--edit] [--json] "goal"

Asks the repository's lore daemon a question and streams the answer. The
daemon is started in the background when none runs (the first start prefills
the whole repository; progress is shown on a terminal). Every answer sees the
working tree as it is at the moment of the question.

With --session NAME the question continues a planning session: its earlier
turns stay in the context (their KV is kept, so they are not computed
again), and the turn is saved; see lore session. With --file (and --lines)
the question is about that code, which is placed right before it.

With --plan, the words are a goal and the answer is a plan for it (steps,
files to change or create, risks) in the planning session plan-<goal> (or
--session NAME); the paths it names are checked against the tree, and it is
saved as a Markdown file for lore generate --plan NAME (--edit opens it in
$VISUAL or $EDITOR first). See docs/handoff.md.

With --json, the answer is still streamed, and the last line of stdout is one
JSON object with the answer and its statistics (ttft_ms, prompt_tokens,
cached_tokens, prefilled_tokens, generated_tokens, ...).

Exit codes: 0 answered, 1 failed, 2 usage, 3 no daemon (with --no-start),
5 busy (too many questions queued: retry), 6 the daemon's socket was refused
(it, its folder or the process behind it is another user's, or it is closed
to you), 130 interrupted.
`

// Main runs the ask command line and returns its exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cmdline.Finish("ask", stderr, run(args, stdout, stderr))
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("ask", askUsage, stderr)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	asJSON := fs.Bool("json", false, "end with one JSON object of the answer and its statistics")
	maxTokens := fs.Int("max-tokens", 256, "answer length limit in tokens")
	temperature := fs.Float64("temperature", 0, "sampling temperature; 0 = greedy")
	topP := fs.Float64("top-p", 0.95, "nucleus sampling threshold (with --temperature)")
	topK := fs.Int("top-k", 0, "sample among this many likeliest tokens (with --temperature); 0 = the daemon's default (40), -1 = all")
	seed := fs.Uint("seed", 0, "sampling seed")
	noStart := fs.Bool("no-start", false, "fail instead of starting a daemon")
	session := fs.String("session", "", "continue the named planning session (see lore session)")
	prio := fs.String("priority", api.PriorityInteractive, "interactive, hook or background: who goes first when the daemon is busy")
	file := fs.String("file", "", "the question is about this file (path in the repository)")
	lineSpan := fs.String("lines", "", "with --file: the lines the question is about, A or A-B (1-based)")
	planMode := fs.Bool("plan", false, "the words are a goal: write a plan for it and save it for lore generate")
	edit := fs.Bool("edit", false, "with --plan: open the saved plan in $VISUAL or $EDITOR")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	loc, err := location(*file, *lineSpan)
	if err != nil {
		return err
	}
	question := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if question == "-" {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		question = strings.TrimSpace(string(b))
	}
	if question == "" {
		fs.Usage()
		return cmdline.UsageErr("no question given")
	}
	if *maxTokens <= 0 {
		return cmdline.UsageErr("--max-tokens must be positive")
	}
	root, err := config.FindRoot(*repo)
	if err != nil {
		return err
	}

	if *edit && !*planMode {
		return cmdline.UsageErr("--edit goes with --plan")
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	tty := cmdline.IsTerminal(stderr)
	c, err := api.Connect(ctx, root, api.ConnectOptions{Start: !*noStart, OnStart: func(log string) {
		if tty {
			fmt.Fprintf(stderr, "starting the lore daemon for %s (log: %s)\n", root, log)
		}
	}})
	if err != nil {
		if *noStart && errors.Is(err, api.ErrNotRunning) {
			return cmdline.WithCode(cmdline.ExitNotRunning, err)
		}
		return err
	}
	defer c.Close()

	prog := cmdline.NewProgress(stderr)
	if *planMode {
		return plan(ctx, c, root, planOptions{goal: question, session: *session, maxTokens: *maxTokens,
			maxSet: flagSet(fs, "max-tokens"), json: *asJSON, edit: *edit}, prog, stdout, stderr)
	}
	var outMu sync.Mutex
	res, err := c.Ask(ctx, api.AskParams{
		Question:    question,
		MaxTokens:   *maxTokens,
		Temperature: float32(*temperature),
		TopP:        float32(*topP),
		TopK:        *topK,
		Seed:        uint32(*seed),
		Session:     *session,
		Priority:    *prio,
		Location:    loc,
	}, func(text string) {
		prog.Clear()
		outMu.Lock()
		io.WriteString(stdout, text)
		outMu.Unlock()
	}, prog.Show)
	prog.Clear()
	if err != nil {
		return err
	}
	if !strings.HasSuffix(res.Text, "\n") {
		fmt.Fprintln(stdout)
	}
	if res.DiskWarning != "" {
		fmt.Fprintf(stderr, "note: %s\n", res.DiskWarning)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	if res.SessionReplayed {
		fmt.Fprintf(stderr, "note: session %s's transcript was replayed on the current pack (the repository changed since its last turn, or its history outgrew the room kept for it; the oldest turns go first)\n", res.Session)
	}
	if tty {
		fmt.Fprintf(stderr, "[%d prompt tokens, %d cached, %d prefilled, %d generated, first token %.0f ms]\n",
			res.PromptTokens, res.CachedTokens, res.PrefilledTokens, res.GeneratedTokens, res.TTFTMillis)
	}
	if note := api.SeenNote(res.RetrievedFull, res.Retrieved); note != "" {
		fmt.Fprintf(stderr, "note: retrieved for this question: %s\n", note)
	}
	if n := len(res.Omitted); n > 0 {
		fmt.Fprintf(stderr, "note: %d files did not fit the context in full (see `lore status`)\n", n)
	}
	return nil
}

// location turns --file and --lines into the code a question is about.
func location(file, span string) (*api.Location, error) {
	if file == "" {
		if span != "" {
			return nil, cmdline.UsageErr("--lines needs --file")
		}
		return nil, nil
	}
	loc := &api.Location{Path: file}
	if abs, err := filepath.Abs(file); err == nil {
		loc.Path = abs
	}
	if span == "" {
		return loc, nil
	}
	a, b, isRange := strings.Cut(span, "-")
	start, err := strconv.Atoi(a)
	end := start
	if err == nil && isRange {
		end, err = strconv.Atoi(b)
	}
	if err != nil || start < 1 || end < start {
		return nil, cmdline.UsageErr("--lines %q: want A or A-B with 1 <= A <= B", span)
	}
	loc.StartLine, loc.EndLine = start, end
	return loc, nil
}
