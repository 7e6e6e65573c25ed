package daemon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"lore/api"
)

// Summaries of commits are kept as git notes under api.NotesRef, written
// one at a time in the background at background priority: interactive
// questions and hooks go first.
const (
	// maxQueuedNotes bounds the commits waiting for a note; past it a
	// request is dropped (logged), to be filled in later.
	maxQueuedNotes = 64
	// noteMaxTokens is a note's length limit.
	noteMaxTokens = 200
)

const (
	noteQuestion  = "Summarize this commit (its message and diff below) for someone reading the history later: in two to four sentences, what changed and why it matters."
	mergeQuestion = "Summarize what this merge or pull brought in (the commits and the combined diff below) for someone catching up: the main changes and anything to look out for."
)

// noteMethod queues a note; it answers at once (hooks send it as a
// notification and do not wait).
func (d *Daemon) noteMethod(_ *call, p api.NoteParams) (struct{}, error) {
	if strings.TrimSpace(p.Commit) == "" {
		return struct{}{}, invalidParams("notes/write needs the commit to summarize")
	}
	select {
	case d.notes <- p:
	default:
		d.log.Warn("too many summary notes queued: this one is dropped (lore summarize --missing fills it in later)", "commit", p.Commit)
	}
	return struct{}{}, nil
}

// writeNotes writes the queued notes until the daemon stops.
func (d *Daemon) writeNotes(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-d.notes:
			if err := d.writeNote(ctx, p); err != nil && ctx.Err() == nil {
				d.log.Warn("summary note not written", "commit", p.Commit, "base", p.Base, "err", err)
			}
		}
	}
}

// writeNote summarizes p and adds the summary as a note, unless the commit
// has a note already (a summary is written once per commit; amended and
// rebased commits get theirs copied by notes.rewriteRef).
func (d *Daemon) writeNote(ctx context.Context, p api.NoteParams) error {
	commit, err := d.resolve(ctx, p.Commit)
	if err != nil {
		return err
	}
	if d.hasNote(ctx, commit) {
		return nil
	}
	rng, question := commit, noteQuestion
	if p.Base != "" {
		base, err := d.resolve(ctx, p.Base)
		if err != nil {
			return err
		}
		rng, question = base+".."+commit, mergeQuestion
	}
	ch, err := d.rangeChanges(ctx, rng)
	if err != nil {
		return err
	}
	text := "No changes."
	if len(ch.files) > 0 {
		q, _, _, err := d.summaryQuestion(ctx, nil, ch, question, noteMaxTokens)
		if err != nil {
			return err
		}
		res, err := d.ask(ctx, nil, api.AskParams{Question: q, Priority: api.PriorityBackground, MaxTokens: noteMaxTokens})
		if err != nil {
			return err
		}
		if text = strings.TrimSpace(strings.Map(printable, ansiEscape.ReplaceAllString(res.Text, ""))); text == "" {
			return fmt.Errorf("the model wrote no summary (%d tokens, stopped: %s)", res.GeneratedTokens, res.StopReason)
		}
	}
	if p.Base != "" {
		text = "Brought in since " + rng[:min(12, len(rng))] + ":\n\n" + text
	}
	return d.addNote(ctx, commit, text+"\n")
}

func (d *Daemon) hasNote(ctx context.Context, commit string) bool {
	_, err := d.git(ctx, 1<<10, "notes", "--ref="+api.NotesRef, "list", commit)
	return err == nil
}

// addNote adds text as commit's note; one that appeared meanwhile is kept.
func (d *Daemon) addNote(ctx context.Context, commit, text string) error {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "notes", "--ref="+api.NotesRef, "add", "-F", "-", commit)
	cmd.Dir = d.opts.Repo
	cmd.Stdin = strings.NewReader(text)
	cmd.Env = os.Environ()
	// A note is a commit on the notes ref: without an identity configured
	// git refuses it, so lore signs it.
	if _, err := d.git(ctx, 1<<10, "var", "GIT_COMMITTER_IDENT"); err != nil {
		cmd.Env = append(cmd.Env, "GIT_COMMITTER_NAME=lore", "GIT_COMMITTER_EMAIL=lore@localhost", "GIT_AUTHOR_NAME=lore", "GIT_AUTHOR_EMAIL=lore@localhost")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		if d.hasNote(ctx, commit) {
			return nil
		}
		return fmt.Errorf("git notes add %s: %v: %s", commit, err, strings.TrimSpace(string(out)))
	}
	d.log.Info("summary note written", "commit", commit[:min(12, len(commit))])
	return nil
}
