package daemon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"lore/api"
)

// Summaries of commits are kept as git notes under api.NotesRef, written
// one at a time in the background at background priority: interactive
// questions and hooks go first.
const (
	// maxQueuedNotes bounds the commits waiting in memory for a note;
	// past it a note waits in the pending folder (api.SavePendingNote).
	maxQueuedNotes = 64
	// noteMaxTokens is a note's length limit.
	noteMaxTokens = 120
)

const (
	noteQuestion  = "Summarize this commit (its message and diff below) for someone reading the history later: in two to four sentences, what changed and why it matters."
	mergeQuestion = "Summarize what this merge or pull brought in (the commits and the combined diff below) for someone catching up: the main changes and anything to look out for."
)

// noteMethod queues a note; it answers at once (hooks send it as a
// notification and do not wait). A note the queue has no room for waits in
// the pending folder for the next idle moment.
func (d *Daemon) noteMethod(c *call, p api.NoteParams) (struct{}, error) {
	if strings.TrimSpace(p.Commit) == "" {
		return struct{}{}, invalidParams("notes/write needs the commit to summarize")
	}
	if !d.queueNote(api.PendingNote{NoteParams: p}) {
		d.log.Warn("too many summary notes queued: this one waits for an idle moment", "commit", p.Commit)
		d.savePending(c.ctx, api.PendingNote{NoteParams: p})
	}
	return struct{}{}, nil
}

// queueNote queues n unless the same note is queued already (the idle
// filler finds the records of notes still waiting in the queue); false
// when the queue is full.
func (d *Daemon) queueNote(n api.PendingNote) bool {
	key := n.NoteParams
	d.notesMu.Lock()
	defer d.notesMu.Unlock()
	if _, ok := d.notesQueued[key]; ok {
		return true
	}
	select {
	case d.notes <- n:
		d.notesQueued[key] = struct{}{}
		return true
	default:
		return false
	}
}

// noteDone forgets a note taken from the queue.
func (d *Daemon) noteDone(n api.PendingNote) {
	d.notesMu.Lock()
	delete(d.notesQueued, n.NoteParams)
	d.notesMu.Unlock()
}

// writeNotes writes the queued notes until the daemon stops.
func (d *Daemon) writeNotes(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-d.notes:
			d.noteDone(n)
			err := d.writeNote(ctx, n.NoteParams)
			if ctx.Err() != nil {
				return // stopped mid-note: a record, if any, stays for the next daemon
			}
			if err == nil {
				d.dropPending(ctx, n.NoteParams)
				continue
			}
			if n.Attempts++; n.Attempts >= api.MaxNoteAttempts {
				d.log.Warn("summary note given up (lore summarize --missing tries again)", "commit", n.Commit, "attempts", n.Attempts, "err", err)
				d.dropPending(ctx, n.NoteParams)
				continue
			}
			d.log.Warn("summary note not written; it is tried again when the daemon is idle", "commit", n.Commit, "base", n.Base, "err", err)
			d.savePending(ctx, n)
		}
	}
}

// Idle moments: no question for noteIdleQuiet. The pending folder is
// looked at again every noteIdleRescan while the daemon stays idle.
const (
	noteIdleQuiet  = 20 * time.Second
	noteIdleRescan = time.Minute
)

// fillPendingNotes queues the pending notes (commits made while no daemon
// ran, notes that failed) whenever the daemon is idle, until it stops.
func (d *Daemon) fillPendingNotes(ctx context.Context) {
	select {
	case <-d.ready:
	case <-ctx.Done():
		return
	}
	for {
		if err := d.activity.wait(ctx, noteIdleQuiet); err != nil {
			return
		}
		if dir, err := d.gitCommonDir(ctx); err == nil {
			pending, err := api.PendingNotes(dir)
			if err != nil {
				d.log.Warn("pending summary notes unreadable", "err", err)
			}
			for _, n := range pending {
				if !d.queueNote(n) {
					break // the rest waits for the next idle moment
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(noteIdleRescan):
		}
	}
}

func (d *Daemon) savePending(ctx context.Context, n api.PendingNote) {
	commit, err := d.resolve(ctx, n.Commit)
	if err == nil {
		n.Commit = commit
		var dir string
		if dir, err = d.gitCommonDir(ctx); err == nil {
			err = api.SavePendingNote(dir, n)
		}
	}
	if err != nil {
		d.log.Warn("summary note lost (lore summarize --missing fills it in)", "commit", n.Commit, "err", err)
	}
}

func (d *Daemon) dropPending(ctx context.Context, n api.NoteParams) {
	commit, err := d.resolve(ctx, n.Commit)
	if err != nil {
		return
	}
	n.Commit = commit
	if dir, err := d.gitCommonDir(ctx); err == nil {
		api.DropPendingNote(dir, n)
	}
}

// gitCommonDir is the git folder the repository's worktrees share.
func (d *Daemon) gitCommonDir(ctx context.Context) (string, error) {
	out, err := d.git(ctx, 4<<10, "rev-parse", "--path-format=absolute", "--git-common-dir")
	return strings.TrimSpace(out), err
}

// writeNote summarizes p and adds the summary as a note, unless the commit
// has a note already (a summary is written once per commit). Amended and
// rebased commits get theirs copied by notes.rewriteRef; an amend that
// changed more than the message (p.Replaces) gets a new one.
func (d *Daemon) writeNote(ctx context.Context, p api.NoteParams) error {
	commit, err := d.resolve(ctx, p.Commit)
	if err != nil {
		return err
	}
	replace := false
	if p.Replaces != "" {
		same, err := d.sameChange(ctx, p.Replaces, commit)
		if err != nil {
			return err
		}
		replace = !same
	}
	if !replace && d.hasNote(ctx, commit) {
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
	return d.addNote(ctx, commit, text+"\n", replace)
}

// sameChange reports whether commits a and b have the same tree and
// parents: an amend of the message alone.
func (d *Daemon) sameChange(ctx context.Context, a, b string) (bool, error) {
	out, err := d.git(ctx, 4<<10, "show", "-s", "--format=%T %P", a, b, "--")
	if err != nil {
		return false, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return len(lines) == 2 && lines[0] == lines[1], nil
}

func (d *Daemon) hasNote(ctx context.Context, commit string) bool {
	_, err := d.git(ctx, 1<<10, "notes", "--ref="+api.NotesRef, "list", commit)
	return err == nil
}

// addNote adds text as commit's note; one that appeared meanwhile is kept
// unless replace.
func (d *Daemon) addNote(ctx context.Context, commit, text string, replace bool) error {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	args := []string{"notes", "--ref=" + api.NotesRef, "add", "-F", "-", commit}
	if replace {
		args = append(args[:3], append([]string{"-f"}, args[3:]...)...)
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = d.opts.Repo
	cmd.Stdin = strings.NewReader(text)
	cmd.Env = os.Environ()
	// A note is a commit on the notes ref: without an identity configured
	// git refuses it, so lore signs it.
	if _, err := d.git(ctx, 1<<10, "var", "GIT_COMMITTER_IDENT"); err != nil {
		cmd.Env = append(cmd.Env, "GIT_COMMITTER_NAME=lore", "GIT_COMMITTER_EMAIL=lore@localhost", "GIT_AUTHOR_NAME=lore", "GIT_AUTHOR_EMAIL=lore@localhost")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		if !replace && d.hasNote(ctx, commit) {
			return nil
		}
		return fmt.Errorf("git notes add %s: %v: %s", commit, err, strings.TrimSpace(string(out)))
	}
	d.log.Info("summary note written", "commit", commit[:min(12, len(commit))])
	return nil
}
