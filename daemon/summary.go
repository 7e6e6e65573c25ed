package daemon

import (
	"context"
	"fmt"
	"strings"

	"lore/api"
	"lore/engine"
)

// The questions of summaries and drafts; the diff follows them.
const (
	summarizeQuestion = "Summarize the changes below (%s): what changed and why it matters, as a commit message subject line followed by a short body, then anything a reviewer should check."
	draftQuestion     = "Write the git commit message for the staged changes below, with the repository above as context: a subject line of at most 72 characters in the imperative mood, a blank line, then a short body saying why the change was made. Write only the message."
	conventionalRule  = " The subject reads `type(scope): subject`, type being one of feat, fix, docs, style, refactor, perf, test, build, ci or chore."
)

// draftMaxTokens is a draft's length limit unless the client gives one: a
// subject and a short body.
const draftMaxTokens = 160

// maxLogBytes caps the commit subjects (or a commit's message) sent with a
// diff, so that the question stays under api.MaxQuestionBytes.
const maxLogBytes = 8 << 10

// summarizeMethod summarizes a revision range, or the working tree against
// HEAD, at hook priority unless the client asks otherwise.
func (d *Daemon) summarizeMethod(c *call, p api.SummarizeParams) (*api.Summary, error) {
	if p.Priority == "" {
		p.Priority = api.PriorityHook
	}
	var ch *changes
	var err error
	what := "the output of `git diff HEAD`: the uncommitted changes"
	if p.Range == "" {
		ch, err = d.workChanges(c.ctx, false, "")
	} else {
		ch, err = d.rangeChanges(c.ctx, p.Range)
		what = "the output of `git diff` for " + p.Range
		if !strings.Contains(p.Range, "..") {
			what = "commit " + p.Range + " against its parent, with its message"
		}
	}
	if err != nil {
		return nil, rpcError(err)
	}
	if len(ch.files) == 0 {
		text := "There are no uncommitted changes."
		if p.Range != "" {
			text = "There are no changes in " + p.Range + "."
		}
		return &api.Summary{Range: ch.name, NoChanges: true, Files: []api.DiffFile{},
			AskResult: api.AskResult{Text: text, StopReason: "no_changes", Omitted: []api.Omitted{}}}, nil
	}
	return d.summarize(c, ch, fmt.Sprintf(summarizeQuestion, what), api.AskParams{Priority: p.Priority, MaxTokens: p.MaxTokens, Stream: p.Stream})
}

// commitDraftMethod drafts a commit message from the staged changes.
func (d *Daemon) commitDraftMethod(c *call, p api.DraftParams) (*api.Draft, error) {
	q := draftQuestion
	switch p.Style {
	case "", api.StylePlain:
	case api.StyleConventional:
		q += conventionalRule
	default:
		return nil, invalidParams(fmt.Sprintf("unknown commit style %q: use %s or %s", p.Style, api.StylePlain, api.StyleConventional))
	}
	if p.Priority == "" {
		p.Priority = api.PriorityHook
	}
	if p.MaxTokens == 0 {
		p.MaxTokens = draftMaxTokens
	}
	// A hook has seconds: waiting out a first prefill would only end at
	// its deadline, so it hears at once why there is no draft.
	if p.Priority == api.PriorityHook && !d.isReady() {
		return nil, rpcError(&api.Error{Code: api.CodeNotReady, Message: "the daemon is still loading the repository" + d.loadingProgress() + "; the next commit gets a draft"})
	}
	ch, err := d.workChanges(c.ctx, true, p.Index)
	if err != nil {
		return nil, rpcError(err)
	}
	if len(ch.files) == 0 {
		return &api.Draft{Summary: api.Summary{Range: ch.name, NoChanges: true, Files: []api.DiffFile{},
			AskResult: api.AskResult{Text: "Nothing is staged.", StopReason: "no_changes", Omitted: []api.Omitted{}}}}, nil
	}
	sum, err := d.summarize(c, ch, q, api.AskParams{Priority: p.Priority, MaxTokens: p.MaxTokens, Stream: p.Stream})
	if err != nil {
		return nil, err
	}
	out := &api.Draft{Summary: *sum}
	out.Subject, out.Body = shapeMessage(sum.Text, p.Style, sum.Files)
	if out.Subject == "" {
		return nil, rpcError(&api.Error{Code: api.CodeNoText, Message: fmt.Sprintf("the model wrote no commit message (%d tokens, stopped: %s); write it yourself, or try again", sum.GeneratedTokens, sum.StopReason)})
	}
	out.Message = out.Subject + "\n"
	if out.Body != "" {
		out.Message += "\n" + out.Body + "\n"
	}
	return out, nil
}

// summarize asks question about the changes for a client, their diff
// reduced to fit the room kept for a question; p carries the client's
// priority, length limit and stream.
func (d *Daemon) summarize(c *call, ch *changes, question string, p api.AskParams) (*api.Summary, error) {
	progress := func(done, total int) {
		c.conn.Notify(c.ctx, api.NotifyProgress, api.ProgressParams{Stream: p.Stream, Progress: api.Progress{Done: done, Total: total}})
	}
	q, files, diffBytes, err := d.summaryQuestion(c.ctx, progress, ch, question, p.MaxTokens)
	if err != nil {
		return nil, err
	}
	p.Question = q
	if err := checkAsk(p); err != nil {
		return nil, err
	}
	res, err := d.serveAsk(c, p)
	if err != nil {
		return nil, err
	}
	return &api.Summary{AskResult: *res, Range: ch.name, Files: files, DiffBytes: diffBytes}, nil
}

// summaryQuestion is question followed by the commits and the diff of ch,
// reduced to fit beside an answer of maxTokens.
func (d *Daemon) summaryQuestion(ctx context.Context, progress engine.Progress, ch *changes, question string, maxTokens int) (string, []api.DiffFile, int, error) {
	// The budget depends on the context size, known once the engine is up.
	if err := d.waitReady(ctx, progress); err != nil {
		return "", nil, 0, rpcError(err)
	}
	diff, files := reduce(ch.files, d.diffBudget(maxTokens))
	var b strings.Builder
	b.WriteString(question)
	if log := strings.TrimSpace(ch.log); log != "" {
		if len(log) > maxLogBytes {
			log = strings.ToValidUTF8(log[:maxLogBytes], "") + "\n[...]"
		}
		b.WriteString("\n\nCommits:\n" + log)
	}
	b.WriteString("\n\n```diff\n" + diff + "```")
	return b.String(), files, len(diff), nil
}

// diffBudget is how many bytes of diff fit in a question: half the room
// kept for a question (retrieved files may take the other half) less the
// answer and the instructions, at three bytes a token (code and diffs
// tokenize denser than prose), at least 1 KiB and at most maxDiffBytes.
func (d *Daemon) diffBudget(maxTokens int) int {
	if maxTokens <= 0 {
		maxTokens = 256
	}
	tokens := engine.QuestionRoom(d.eng.Info().ContextSize)/2 - maxTokens/2 - 128
	return min(max(tokens*3, 1<<10), maxDiffBytes)
}
