package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

// runHookRun is what lore's hook scripts run. It never fails git: every
// problem ends as a comment line in the message (prepare-commit-msg) or a
// line on stderr, with exit status 0.
func runHookRun(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cmdline.UsageErr("lore hook run needs the hook's name (%s) and git's arguments", strings.Join(hookNames, ", "))
	}
	name, rest := args[0], args[1:]
	root, err := config.FindRoot("")
	if err != nil {
		fmt.Fprintf(stderr, "lore: %s hook: %v\n", name, err)
		return nil
	}
	switch name {
	case "prepare-commit-msg":
		prepareCommitMsg(root, rest, stderr)
	case "post-commit", "post-merge", "post-rewrite":
		noteHook(root, name, rest, stderr)
	default:
		return cmdline.UsageErr("unknown hook %q: lore runs %s", name, strings.Join(hookNames, ", "))
	}
	return nil
}

// prepareCommitMsg writes a draft above git's comment lines, for a plain
// `git commit` only, within hook_timeout whatever the daemon does.
func prepareCommitMsg(root string, args []string, stderr io.Writer) {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "lore: prepare-commit-msg: git gives the message file as the first argument")
		return
	}
	msgFile := args[0]
	if len(args) > 1 && args[1] != "" {
		return // -m, -F, a template, a merge, a squash, -c/-C/--amend
	}
	gitDir, err := gitIn(root, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return
	}
	for _, busy := range []string{"rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD", "REVERT_HEAD", "BISECT_LOG", "MERGE_HEAD"} {
		if _, err := os.Lstat(filepath.Join(gitDir, busy)); err == nil {
			return
		}
	}
	// Nothing staged (git commit --allow-empty): nothing to draft from.
	staged := exec.Command("git", "diff", "--cached", "--quiet")
	staged.Dir = root
	if err := staged.Run(); err == nil {
		return
	}
	s, err := config.Load(root)
	if err != nil {
		addComment(root, msgFile, "lore: no draft: "+firstLine(err.Error()))
		return
	}
	if s.HookTimeout <= 0 {
		return
	}
	index := os.Getenv("GIT_INDEX_FILE")
	if index != "" && !filepath.IsAbs(index) {
		if wd, err := os.Getwd(); err == nil {
			index = filepath.Join(wd, index)
		}
	}
	type result struct {
		draft *api.Draft
		err   error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), s.HookTimeout)
	defer cancel()
	go func() {
		c, err := api.Connect(ctx, root, api.ConnectOptions{})
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		d, err := c.DraftCommit(ctx, api.DraftParams{Style: s.CommitStyle, Index: index}, nil, nil)
		done <- result{d, err}
	}()
	// The deadline is kept here, not by the client: a daemon stopped with
	// SIGSTOP accepts the connection and the request and never answers, and
	// nothing the client does on the way out may hold the commit.
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	switch {
	case r.err == nil && r.draft.NoChanges:
	case r.err == nil:
		writeDraft(msgFile, r.draft.Message)
	case errors.Is(r.err, api.ErrNotRunning):
		addComment(root, msgFile, "lore: no draft: no lore daemon runs for this repository (start one: lore daemon --detach)")
		if s.HookStartDaemon {
			startDaemonBehind(root)
		}
	case errors.Is(r.err, context.DeadlineExceeded):
		addComment(root, msgFile, fmt.Sprintf("lore: no draft: the daemon did not finish within hook_timeout (%s; see lore status)", s.HookTimeout))
	default:
		addComment(root, msgFile, "lore: no draft: "+firstLine(r.err.Error()))
	}
}

// writeDraft puts the draft above what git wrote (its comment lines).
func writeDraft(msgFile, draft string) {
	old, err := os.ReadFile(msgFile)
	if err != nil {
		return
	}
	os.WriteFile(msgFile, []byte(draft+"\n"+strings.TrimLeft(string(old), "\n")), 0o644)
}

// addComment adds one comment line (git strips it) above git's own.
func addComment(root, msgFile, text string) {
	old, err := os.ReadFile(msgFile)
	if err != nil {
		return
	}
	c := commentChar(root, string(old))
	os.WriteFile(msgFile, []byte("\n"+c+" "+text+"\n"+strings.TrimLeft(string(old), "\n")), 0o644)
}

// commentChar is the prefix git strips from the message: core.commentString
// or core.commentChar, "#" by default; with "auto", the one git used in the
// file's own comment lines (its last line).
func commentChar(root, msg string) string {
	for _, key := range []string{"core.commentString", "core.commentChar"} {
		v, _ := gitIn(root, "config", "--get", key)
		if v == "auto" {
			trimmed := strings.TrimRight(msg, "\n")
			if last := trimmed[strings.LastIndexByte(trimmed, '\n')+1:]; last != "" {
				return last[:1]
			}
			return "#"
		}
		if v != "" {
			return v
		}
	}
	return "#"
}

// startDaemonBehind starts the repository's daemon in its own session for
// the next commit, without waiting for it.
func startDaemonBehind(root string) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	cmd := exec.Command(self, "daemon", "--detach", "--repo", root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() == nil {
		cmd.Process.Release()
	}
}

// postHookDeadline bounds what post-commit and post-merge do: connect and
// write one notification. A daemon that is stopped still accepts both (the
// kernel does), so this is only a guard.
const postHookDeadline = time.Second

// noteHook asks the daemon to summarize the new commit (post-commit), what
// a merge or pull brought since the previous HEAD (post-merge), or an
// amended commit whose change is not the one its copied note describes
// (post-rewrite), as a git note, and returns without waiting for it.
// Commits a rebase makes are skipped: their notes are copied by
// notes.rewriteRef. With no daemon to tell, the note waits in the pending
// folder for the next daemon's idle moment.
func noteHook(root, name string, args []string, stderr io.Writer) {
	revs := []string{"HEAD"}
	switch name {
	case "post-commit":
		if len(args) > 0 && args[0] != "" {
			revs[0] = args[0] // the script resolved HEAD when the commit was made
		}
	case "post-merge":
		if len(args) > 0 && args[0] == "1" {
			return // a squash merge made no commit
		}
		revs = append(revs, "ORIG_HEAD")
	case "post-rewrite":
		if len(args) == 0 || args[0] != "amend" {
			return // a rebase: git copied the notes
		}
		if len(args) == 1 {
			// Run by a hook manager: git's "old new" line is on stdin.
			line, _ := bufio.NewReader(io.LimitReader(os.Stdin, 1<<10)).ReadString('\n')
			args = append(args, strings.Fields(line)...)
		}
		if len(args) < 3 {
			return
		}
		revs = []string{args[2], args[1]}
	}
	out, err := gitIn(root, append([]string{"rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"}, revs...)...)
	if err != nil {
		return
	}
	lines := strings.Split(out, "\n")
	if len(lines) != len(revs)+2 {
		return
	}
	gitDir, commonDir, ids := lines[0], lines[1], lines[2:]
	for _, busy := range []string{"rebase-merge", "rebase-apply"} {
		if _, err := os.Lstat(filepath.Join(gitDir, busy)); err == nil {
			return
		}
	}
	p := api.NoteParams{Commit: ids[0]}
	switch name {
	case "post-merge":
		if ids[1] == ids[0] {
			return // already up to date
		}
		p.Base = ids[1]
	case "post-rewrite":
		p.Replaces = ids[1]
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), postHookDeadline)
	defer cancel()
	go func() {
		c, err := api.Connect(ctx, root, api.ConnectOptions{})
		if err == nil {
			err = c.Note(ctx, p)
			c.Close()
		}
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		return
	}
	if serr := api.SavePendingNote(commonDir, api.PendingNote{NoteParams: p}); serr != nil {
		fmt.Fprintf(stderr, "lore: %s: no summary note: %v\n", name, serr)
	}
	if errors.Is(err, api.ErrNotRunning) {
		if s, lerr := config.Load(root); lerr == nil && s.HookStartDaemon {
			startDaemonBehind(root)
		}
		return
	}
	fmt.Fprintf(stderr, "lore: %s: the summary note waits for the daemon: %v\n", name, err)
}
