package lsp

import (
	"context"
	"strconv"
	"strings"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/api"
)

// Questions: lore/ask (streamed as partial results) and the asking
// commands share runAsk, which sends pending buffers, then asks on the
// editor's one daemon connection. Cancelling the context makes the client
// send ask/cancel, which frees the daemon's engine sequence at once.

// CursorContext is how many lines around the cursor a question about an
// empty selection carries.
const CursorContext = 15

// MaxLocationBytes caps the code sent with a question; a longer selection
// is cut at a line end.
const MaxLocationBytes = 32 << 10

type askRequest struct {
	question  string
	loc       *api.Location
	session   string
	priority  string
	maxTokens int
	onToken   func(string) // may be nil
	progress  *workDone    // may be nil
}

// runAsk asks the daemon and returns its answer.
func (s *Server) runAsk(ctx context.Context, r askRequest) (*api.AskResult, error) {
	ctx, cancel := context.WithTimeout(ctx, AskTimeout)
	defer cancel()
	s.flushBuffers(ctx)
	c, err := s.daemon(ctx)
	if err != nil {
		return nil, err
	}
	if r.maxTokens <= 0 {
		r.maxTokens = s.currentSettings().MaxTokens
	}
	return c.Ask(ctx, api.AskParams{
		Question:  r.question,
		MaxTokens: r.maxTokens,
		Session:   r.session,
		Priority:  r.priority,
		Location:  r.loc,
	}, func(text string) {
		r.progress.startGenerating()
		r.progress.text(text)
		if r.onToken != nil {
			r.onToken(text)
		}
	}, r.progress.prefill)
}

// location is the code a question is about: a selection's whole lines, the
// lines around an empty selection (the cursor), or the whole file without
// a range.
func (s *Server) location(uri string, rng *protocol.Range) (*api.Location, error) {
	abs, rel, ok := repoPath(s.repoRoot(), uri)
	if !ok {
		return nil, invalidParams("%s is not a file in the repository %s", uri, s.repoRoot())
	}
	loc := &api.Location{Path: rel}
	if rng == nil {
		return loc, nil
	}
	text, err := s.readText(uri, abs)
	if err != nil {
		return nil, invalidParams("reading %s: %v", rel, err)
	}
	first, last := int(rng.Start.Line), int(rng.End.Line)
	if last < first {
		first, last = last, first
	}
	switch {
	case rng.Start == rng.End:
		first, last = first-CursorContext, first+CursorContext
	case rng.End.Character == 0 && last > first:
		last-- // a selection of whole lines ends at the next line's start
	}
	span, first, last := lineSpan(text, first, last)
	for len(span) > MaxLocationBytes && last > first {
		last = first + (last-first)/2
		span, first, last = lineSpan(text, first, last)
	}
	if len(span) > MaxLocationBytes {
		span = strings.ToValidUTF8(span[:MaxLocationBytes], "")
	}
	loc.StartLine, loc.EndLine, loc.Text = first+1, last+1, span
	return loc, nil
}

// askRequest serves lore/ask.
func (s *Server) askRequest(c *call) (any, error) {
	var p AskParams
	if err := unmarshal(c.req, &p); err != nil {
		return nil, err
	}
	q := strings.TrimSpace(p.Question)
	if q == "" {
		return nil, invalidParams("lore/ask: question is required")
	}
	if p.MaxTokens < 0 {
		return nil, invalidParams("lore/ask: maxTokens must be positive")
	}
	r := askRequest{question: q, session: p.Session, maxTokens: p.MaxTokens}
	if p.TextDocument != nil && p.TextDocument.URI != "" {
		loc, err := s.location(p.TextDocument.URI, p.Range)
		if err != nil {
			return nil, err
		}
		r.loc = loc
	} else if p.Range != nil {
		return nil, invalidParams("lore/ask: range needs textDocument")
	}
	if len(p.PartialResultToken) > 0 && string(p.PartialResultToken) != "null" {
		tok := p.PartialResultToken
		r.onToken = func(text string) {
			s.notify("$/progress", progressParams{Token: tok, Value: PartialText{Text: text}})
		}
	}
	r.progress = s.startProgress(c.ctx, p.WorkDoneToken, false, "lore: "+clip(q, 60), c.cancel)
	ask := s.runAsk
	if p.Plan {
		ask = s.runPlan
	}
	res, err := ask(c.ctx, r)
	if err != nil {
		r.progress.end(failMessage(c.ctx, err))
		return nil, err
	}
	out := fromAPI(res, q)
	r.progress.end(doneMessage(out))
	return out, nil
}

func doneMessage(res *AskResult) string {
	return "answered: " + strconv.Itoa(res.GeneratedTokens) + " tokens, first after " + strconv.Itoa(int(res.TTFTMillis+0.5)) + " ms"
}

func failMessage(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "cancelled"
	}
	return "failed: " + err.Error()
}
