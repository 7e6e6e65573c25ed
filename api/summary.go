package api

import (
	"context"
	"strconv"
	"time"
)

// Summaries of changes: one implementation in the daemon serves
// `lore summarize`, the LSP's lore.summarizeChanges and the git hooks.
const (
	// MethodSummarize summarizes a revision range, or the working tree
	// against HEAD (SummarizeParams → Summary). Text streams as ask/token.
	MethodSummarize = "summarize"
	// MethodCommitDraft drafts a commit message from the staged changes
	// (DraftParams → Draft). Text streams as ask/token.
	MethodCommitDraft = "commit/draft"
	// MethodNote is a notification (no reply): summarize a commit, or what
	// a merge or pull brought, as a git note under NotesRef, in the
	// background (NoteParams). Git hooks send it and return at once.
	MethodNote = "notes/write"
)

// NotesRef holds lore's summaries of commits, one git note each.
const NotesRef = "refs/notes/lore"

// NoteParams names what to summarize as a note on Commit.
type NoteParams struct {
	Commit string `json:"commit"` // a revision; the note goes on the commit it names
	// Base, when set, makes the note a summary of Base..Commit (what a
	// merge or pull brought in since the previous HEAD); else Commit is
	// summarized against its first parent.
	Base string `json:"base,omitempty"`
	// Replaces, when set, is the commit that Commit replaced (git commit
	// --amend): notes.rewriteRef copied its note, which is kept when the
	// amend changed only the message and rewritten otherwise.
	Replaces string `json:"replaces,omitempty"`
}

// Commit message styles (DraftParams.Style, the commit_style setting).
const (
	StylePlain        = "plain"        // a subject line, a blank line, a body
	StyleConventional = "conventional" // type(scope): subject
)

// MaxSubjectChars caps a drafted commit message's subject line, in
// characters: git's tools and hosting sites cut longer ones.
const MaxSubjectChars = 72

// SummarizeParams names the changes to summarize.
type SummarizeParams struct {
	// Range is "" (the working tree against HEAD, as `git diff HEAD`), a
	// revision (that commit against its first parent) or "A..B" (what B
	// has that A had not, as `git diff A B`).
	Range     string `json:"range,omitempty"`
	Priority  string `json:"priority,omitempty"` // "" = hook
	MaxTokens int    `json:"max_tokens,omitempty"`
	Stream    string `json:"stream,omitempty"` // the client sets it
}

// DraftParams asks for a commit message for what is staged.
type DraftParams struct {
	Style string `json:"style,omitempty"` // StylePlain ("") or StyleConventional
	// Index is the absolute path of the index git commits from when it is
	// not the repository's own ($GIT_INDEX_FILE of git commit -a or of
	// git commit PATH, as its hooks see it); "" = the repository's index.
	Index     string `json:"index,omitempty"`
	Priority  string `json:"priority,omitempty"` // "" = hook
	MaxTokens int    `json:"max_tokens,omitempty"`
	Stream    string `json:"stream,omitempty"` // the client sets it
}

// DiffFile is one file of the summarized diff.
type DiffFile struct {
	Path string `json:"path"`
	// Reduced says how the file's diff was shortened: "" when it went in
	// whole, "by name only: REASON" (lock, generated, vendored and secret
	// files), or "cut to N of M bytes" (a diff over its share of the budget).
	Reduced string `json:"reduced,omitempty"`
}

// Summary is the model's summary of a diff.
type Summary struct {
	AskResult
	Range     string     `json:"range"`                // what was summarized, as git names it ("HEAD" for the working tree)
	NoChanges bool       `json:"no_changes,omitempty"` // nothing to summarize; Text says so and the model was not asked
	Files     []DiffFile `json:"files"`
	DiffBytes int        `json:"diff_bytes"` // bytes of diff the model read
}

// Draft is a commit message drafted from the staged diff.
type Draft struct {
	Summary
	Subject string `json:"subject"` // at most MaxSubjectChars characters
	Body    string `json:"body,omitempty"`
	Message string `json:"message"` // subject, a blank line and the body
}

// Summarize summarizes a range of commits or the working tree; answer
// text goes to onToken and prefill progress to onProgress (either may be
// nil) as with Ask.
func (c *Client) Summarize(ctx context.Context, p SummarizeParams, onToken func(string), onProgress func(Progress)) (*Summary, error) {
	var res Summary
	err := c.streamCall(ctx, MethodSummarize, func(id string) any { p.Stream = id; return p }, &res, onToken, onProgress)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// DraftCommit drafts a commit message from the staged changes.
func (c *Client) DraftCommit(ctx context.Context, p DraftParams, onToken func(string), onProgress func(Progress)) (*Draft, error) {
	var res Draft
	err := c.streamCall(ctx, MethodCommitDraft, func(id string) any { p.Stream = id; return p }, &res, onToken, onProgress)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Note asks the daemon to write a summary note; it returns once the
// request is written (the daemon works in the background, and a note that
// exists already is kept).
func (c *Client) Note(ctx context.Context, p NoteParams) error {
	return callError(c.conn.Notify(ctx, MethodNote, p))
}

// streamCall makes a request whose answer streams as notifications named
// by a stream id; params receives the id and returns the params to send.
func (c *Client) streamCall(ctx context.Context, method string, params func(id string) any, result any, onToken func(string), onProgress func(Progress)) error {
	id := strconv.FormatUint(c.next.Add(1), 10)
	c.mu.Lock()
	c.streams[id] = &stream{onToken: onToken, onProgress: onProgress}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.streams, id)
		c.mu.Unlock()
	}()
	if err := c.call(ctx, method, params(id), result); err != nil {
		if ctx.Err() != nil {
			// The connection may serve other requests: tell the daemon to
			// stop this one now rather than when the connection closes.
			nctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.conn.Notify(nctx, MethodCancel, CancelParams{Stream: id})
			cancel()
		}
		return err
	}
	return nil
}
