// Package ask implements the ask command line. It is a thin client: it talks
// to the repository's daemon through package api and leaves the engine and
// the repository's reading to the daemon.
package ask

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"lore/api"
	"lore/internal/cmdline"
)

const askUsage = `Usage: ask [flags] QUESTION...
       ask --plan [--session NAME] [--edit] [--json] GOAL...
       lore ask [flags] QUESTION...

Asks the repository's lore daemon a question and streams the answer. The
daemon is started in the background when none runs (the first start loads
the model and prefills the whole repository; progress is shown on a
terminal). Every answer sees the working tree as it is at the moment of the
question. Flags may come before or after the question; "--" ends them, and
a question of "-" is read from stdin.

The repository is the git repository around the current folder. Outside of
one, ask refuses unless --repo names the folder to use as it is.

With --session NAME the question continues a planning session: its earlier
turns stay in the context (their KV is kept, so they are not computed
again), and the turn is saved; see lore session. With --file (and --lines)
the question is about that code, which is placed right before it.

With --plan, the words are a goal and the answer is a plan for it (steps,
files to change or create, risks) in the planning session plan-<goal> (or
--session NAME); the paths it names are checked against the tree, and it is
saved as a Markdown file for lore generate --plan NAME (--edit opens it in
$VISUAL or $EDITOR first). See docs/handoff.md.

On a terminal the answer is rendered as Markdown (--plain, or a pipe, prints
it as the model wrote it; NO_COLOR turns colors off). With --json, stdout is
one JSON object: the answer's text and its statistics (ttft_ms,
prompt_tokens, cached_tokens, prefilled_tokens, generated_tokens, ...). With
--stream-json, stdout is one JSON object per line as the answer comes:
{"type":"progress","done":N,"total":N}, {"type":"token","text":"..."}, then
{"type":"result","result":{...}} (or {"type":"error","message":"..."}).

Exit codes: 0 answered, 1 failed, 2 usage, 3 no daemon (with --no-start),
5 busy (too many questions queued: retry), 6 the daemon's socket was refused
(it, its folder or the process behind it is another user's, or it is closed
to you), 130 interrupted.
`

// Main runs the ask command line and returns its exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cmdline.Finish("ask", stderr, Run(args, stdout, stderr))
}

// Run runs the ask command line (as ask, or as lore ask) and returns its
// error, which cmdline.Finish turns into a message and an exit code.
func Run(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("ask", askUsage, stdout)
	repo := fs.String("repo", "", "repository (default: the git repository around the current folder)")
	asJSON := fs.Bool("json", false, "print one JSON object: the answer's text and statistics")
	streamJSON := fs.Bool("stream-json", false, "print one JSON event per line (progress, token, result)")
	stats := fs.Bool("stats", false, "say how the answer was made, on stderr (the default on a terminal)")
	plain := fs.Bool("plain", false, "print the answer as the model wrote it, without Markdown rendering")
	maxTokens := fs.Int("max-tokens", 256, "answer length limit in tokens (at least 1)")
	temperature := fs.Float64("temperature", 0, fmt.Sprintf("sampling temperature, 0 to %d; 0 = greedy", api.MaxTemperature))
	topP := fs.Float64("top-p", 0.95, "nucleus sampling threshold, more than 0 and at most 1 (with --temperature)")
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
	if err := validate(*maxTokens, *temperature, *topP, *topK, *prio, *asJSON, *streamJSON); err != nil {
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
		return cmdline.UsageErr("no question given (ask \"how does X work?\"; see ask --help)")
	}
	root, err := cmdline.RepoRoot(*repo)
	if err != nil {
		return err
	}

	if *edit && !*planMode {
		return cmdline.UsageErr("--edit goes with --plan")
	}
	if *planMode && *streamJSON {
		return cmdline.UsageErr("--stream-json does not go with --plan (use --json)")
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	tty := cmdline.IsTerminal(stderr)
	prog := cmdline.NewProgress(stderr)
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
	if tty {
		// Until the first progress report or answer text: a daemon just
		// started, or still loading, is reading the model's weights.
		if st, err := c.Status(ctx); err == nil && st.State == api.StateLoading {
			prog.Printf("loading the model %s", filepathBase(st.ModelPath))
		}
	}

	if *planMode {
		return plan(ctx, c, root, planOptions{goal: question, session: *session, maxTokens: *maxTokens,
			maxSet: flagSet(fs, "max-tokens"), json: *asJSON, edit: *edit}, prog, stdout, stderr)
	}
	var out answerWriter
	switch {
	case *streamJSON:
		out = newEventWriter(stdout)
	case *asJSON:
		out = discardWriter{}
	case !*plain && cmdline.IsTerminal(stdout):
		out = newMarkdownWriter(stdout)
	default:
		out = &plainWriter{w: stdout}
	}
	var outMu sync.Mutex
	onProgress := prog.Show
	if *streamJSON {
		onProgress = func(p api.Progress) {
			prog.Show(p)
			outMu.Lock()
			out.(*eventWriter).progress(p)
			outMu.Unlock()
		}
	}
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
		out.token(text)
		outMu.Unlock()
	}, onProgress)
	prog.Clear()
	if err != nil {
		if ctx.Err() != nil && prog.Prefilling() {
			fmt.Fprintln(stderr, "note: the lore daemon keeps prefilling the repository in the background; `lore status` shows how far it is, and the next question starts from there")
		}
		err = plainError(err)
		if *streamJSON {
			out.(*eventWriter).fail(err)
		}
		return err
	}
	if err := out.finish(res); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	if res.DiskWarning != "" {
		fmt.Fprintf(stderr, "note: %s\n", res.DiskWarning)
	}
	if *streamJSON {
		return nil
	}
	if res.SessionReplayed {
		fmt.Fprintf(stderr, "note: session %s's transcript was replayed on the current pack (the repository changed since its last turn, or its history outgrew the room kept for it; the oldest turns go first)\n", res.Session)
	}
	if tty || *stats {
		fmt.Fprintf(stderr, "[%s]\n", statsLine(res, prog.Prefilled()))
	}
	if note := api.SeenNote(res.RetrievedFull, res.Retrieved); note != "" {
		fmt.Fprintf(stderr, "note: retrieved for this question: %s\n", note)
	}
	if n := len(res.Omitted); n > 0 && firstNoteFor(root, res.PackVersion) {
		fmt.Fprintf(stderr, "note: %d files did not fit the context in full (`lore status` says which; this note comes once per version of the pack)\n", n)
	}
	return nil
}

// statsLine says in words how the answer was made: its length, the wait for
// its first token, and what the KV cache spared. fullPrefill is how much of
// a prefill of the repository this question waited for, if any (the
// answer's own count is of changes prefilled for it, 0 then).
func statsLine(res *api.AskResult, fullPrefill int) string {
	n := func(v int) string { return cmdline.Thousands(int64(v)) }
	s := fmt.Sprintf("%s tokens in %s, the first after %s; %s of %s prompt tokens came from the KV cache",
		n(res.GeneratedTokens), cmdline.Seconds(time.Duration(res.ElapsedMillis*float64(time.Millisecond))),
		cmdline.Seconds(time.Duration(res.TTFTMillis*float64(time.Millisecond))), n(res.CachedTokens), n(res.PromptTokens))
	switch {
	case fullPrefill > 0:
		s += fmt.Sprintf(", after waiting for %s tokens of the repository to be prefilled", n(fullPrefill))
	case res.PrefilledTokens > 0:
		s += fmt.Sprintf(", %s tokens of changes prefilled first", n(res.PrefilledTokens))
	}
	return s
}

// validate checks the flags' values before anything starts, naming the
// range each must be in.
func validate(maxTokens int, temperature, topP float64, topK int, prio string, asJSON, streamJSON bool) error {
	switch {
	case maxTokens < 1:
		return cmdline.UsageErr("--max-tokens %d: give the answer's length limit in tokens, at least 1", maxTokens)
	case temperature < 0 || temperature > api.MaxTemperature || math.IsNaN(temperature):
		return cmdline.UsageErr("--temperature %g is out of range: use 0 (greedy) to %d", temperature, api.MaxTemperature)
	case topP <= 0 || topP > 1 || math.IsNaN(topP):
		return cmdline.UsageErr("--top-p %g is out of range: use more than 0 and at most 1", topP)
	case topK < -1:
		return cmdline.UsageErr("--top-k %d is out of range: use -1 (all tokens), 0 (the daemon's default) or a positive count", topK)
	case asJSON && streamJSON:
		return cmdline.UsageErr("give --json or --stream-json, not both")
	}
	switch prio {
	case api.PriorityInteractive, api.PriorityHook, api.PriorityBackground:
	default:
		return cmdline.UsageErr("--priority %q: use %s, %s or %s", prio, api.PriorityInteractive, api.PriorityHook, api.PriorityBackground)
	}
	return nil
}

// plainError turns an error the daemon returned into a plain message: the
// daemon's own words, without the JSON-RPC frame around them.
func plainError(err error) error {
	var ae *api.Error
	if errors.As(err, &ae) {
		msg := ae.Message
		// jsonrpc2's rendering, should a message carry one.
		if rest, ok := strings.CutPrefix(msg, "jsonrpc2: code "); ok {
			if _, m, found := strings.Cut(rest, " message: "); found {
				msg = m
			}
		}
		return &api.Error{Code: ae.Code, Message: msg}
	}
	return err
}

func filepathBase(p string) string {
	if p == "" {
		return ""
	}
	return filepath.Base(p)
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
