package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lore/internal/testenv"
)

// gitRun runs the real git in dir with vars (and an author), returning its
// combined output and whether it succeeded.
func gitRun(t *testing.T, vars []string, dir string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, vars...), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return string(out), err == nil
}

func mustGit(t *testing.T, vars []string, dir string, args ...string) string {
	t.Helper()
	out, ok := gitRun(t, vars, dir, args...)
	if !ok {
		t.Fatalf("git %v:\n%s", args, out)
	}
	return out
}

// settleHooks makes the test's end wait (up to a minute) until no hook
// that git left running in the background (post-commit, post-merge,
// post-rewrite) runs in repo: they may still write into its .git folder
// (a pending note) when the test's temporary folders are removed.
func settleHooks(t *testing.T, repo string) {
	t.Helper()
	if real, err := filepath.EvalSymlinks(repo); err == nil {
		repo = real
	}
	t.Cleanup(func() {
		for deadline := time.Now().Add(time.Minute); hookRunning(repo) && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// hookRunning reports whether a lore hook (the script, or the lore process
// it started) runs with its working folder in repo.
func hookRunning(repo string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmd, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || !(bytes.Contains(cmd, []byte("\x00hook\x00run\x00")) || bytes.Contains(cmd, []byte("/hooks/post-"))) {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join(p, "cwd")); err == nil && (cwd == repo || strings.HasPrefix(cwd, repo+"/")) {
			return true
		}
	}
	return false
}

// hookFile is what a hooks folder holds under one name.
type hookFile struct {
	mode    fs.FileMode
	body    string // a symlink's target for a symlink
	modTime time.Time
}

func readHooks(t *testing.T, dir string) map[string]hookFile {
	t.Helper()
	out := map[string]hookFile{}
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		var body string
		if fi.Mode()&fs.ModeSymlink != 0 {
			body, _ = os.Readlink(p)
		} else {
			b, _ := os.ReadFile(p)
			body = string(b)
		}
		out[e.Name()] = hookFile{fi.Mode(), body, fi.ModTime()}
	}
	return out
}

func writeExec(t *testing.T, p, body string, mode fs.FileMode) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// Install chains the hooks already there (their output is seen, their
// failure still fails the commit), twice is once, and uninstall puts
// back exactly what was there, the config included.
func TestHookInstallChainsAndRestores(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	settleHooks(t, repo)
	dir := filepath.Join(repo, ".git", "hooks")
	writeExec(t, filepath.Join(dir, "prepare-commit-msg"), "#!/bin/sh\necho \"the earlier hook ran on $1\" >&2\n[ -z \"$FAIL_HOOK\" ]\n", 0o755)
	writeExec(t, filepath.Join(dir, "post-merge"), "#!/bin/sh\nexit 0\n", 0o640) // not executable: git does not run it
	if err := os.Symlink("../../tools/post-commit.sh", filepath.Join(dir, "post-commit")); err != nil {
		t.Fatal(err)
	}
	rewritten := filepath.Join(t.TempDir(), "rewritten")
	writeExec(t, filepath.Join(dir, "post-rewrite"), "#!/bin/sh\ncat > '"+rewritten+"'\n", 0o755)
	before := readHooks(t, dir)

	out, errOut, code := run(t, vars, repo, "lore", "hook", "install")
	if code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	installed := readHooks(t, dir)
	for _, name := range []string{"prepare-commit-msg", "post-commit", "post-merge", "post-rewrite"} {
		h := installed[name]
		if h.mode&0o111 == 0 || !strings.Contains(h.body, "lore-hook: ") || !strings.Contains(h.body, "'"+filepath.Join(testenv.Binaries(t), "lore")+"'") {
			t.Errorf("%s after install: %v %q", name, h.mode, h.body)
		}
		if installed[name+".lore-chained"] != before[name] {
			t.Errorf("%s was not kept as it was: %+v, was %+v", name, installed[name+".lore-chained"], before[name])
		}
	}
	if v := mustGit(t, vars, repo, "config", "--get-all", "notes.rewriteRef"); v != "refs/notes/lore\n" {
		t.Errorf("notes.rewriteRef = %q", v)
	}
	if out, _, code := run(t, vars, repo, "lore", "hook", "install"); code != 0 || strings.Count(out, "already installed") != 4 {
		t.Errorf("second install (exit %d):\n%s", code, out)
	}
	if again := readHooks(t, dir); !maps.Equal(again, installed) {
		t.Errorf("a second install changed the hooks")
	}
	if v := mustGit(t, vars, repo, "config", "--get-all", "notes.rewriteRef"); v != "refs/notes/lore\n" {
		t.Errorf("notes.rewriteRef after a second install = %q", v)
	}
	if out, _, _ := run(t, vars, repo, "lore", "hook", "status"); !strings.Contains(out, "installed, chaining prepare-commit-msg.lore-chained") || !strings.Contains(out, "refs/notes/lore") {
		t.Errorf("status:\n%s", out)
	}

	// A commit with -m: the earlier hook runs, the message is untouched
	// (no daemon runs: lore adds nothing).
	writeExec(t, filepath.Join(repo, "alpha", "alpha.go"), "package alpha\n\n// Alpha greets twice.\n", 0o644)
	mustGit(t, vars, repo, "add", "-A")
	out, ok := gitRun(t, vars, repo, "commit", "-m", "alpha: shorter")
	if !ok || !strings.Contains(out, "the earlier hook ran on .git/COMMIT_EDITMSG") {
		t.Errorf("commit -m with the chained hook:\n%s", out)
	}
	if msg := mustGit(t, vars, repo, "log", "-1", "--format=%B"); msg != "alpha: shorter\n\n" {
		t.Errorf("message %q, want it untouched", msg)
	}
	writeExec(t, filepath.Join(repo, "alpha", "alpha.go"), "package alpha\n", 0o644)
	mustGit(t, vars, repo, "add", "-A")
	out, ok = gitRun(t, append(vars, "FAIL_HOOK=1"), repo, "commit", "-m", "must fail")
	if ok || !strings.Contains(out, "the earlier hook ran") {
		t.Errorf("a failing chained hook did not fail the commit:\n%s", out)
	}
	// post-rewrite: the chained hook still gets git's "old new" lines.
	old := strings.TrimSpace(mustGit(t, vars, repo, "rev-parse", "HEAD"))
	mustGit(t, vars, repo, "commit", "-q", "--amend", "-m", "alpha: emptied")
	amended := strings.TrimSpace(mustGit(t, vars, repo, "rev-parse", "HEAD"))
	if got, _ := os.ReadFile(rewritten); string(got) != old+" "+amended+"\n" {
		t.Errorf("the chained post-rewrite hook read %q, want %q", got, old+" "+amended+"\n")
	}

	if out, errOut, code := run(t, vars, repo, "lore", "hook", "uninstall"); code != 0 {
		t.Fatalf("uninstall: exit %d\n%s%s", code, out, errOut)
	}
	after := readHooks(t, dir)
	if !maps.Equal(after, before) {
		t.Errorf("uninstall did not restore the hooks:\n got %v\nwant %v", after, before)
	}
	if v, _ := gitRun(t, vars, repo, "config", "--get-all", "notes.rewriteRef"); v != "" {
		t.Errorf("notes.rewriteRef after uninstall = %q", v)
	}
	if _, err := os.Stat(filepath.Join(repo, ".git", "lore-hooks.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lore-hooks.json after uninstall: %v", err)
	}
}

// core.hooksPath is where git looks, so it is where lore installs; a
// rewriteRef the user had stays after uninstall; a hook manager's folder
// is left to it unless --force.
func TestHookInstallRespectsHooksPath(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	mustGit(t, vars, repo, "config", "core.hooksPath", "shared-hooks")
	mustGit(t, vars, repo, "config", "notes.rewriteRef", "refs/notes/lore")
	if out, errOut, code := run(t, vars, repo, "lore", "hook", "install"); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(repo, "shared-hooks", "prepare-commit-msg")); err != nil {
		t.Errorf("not installed in core.hooksPath: %v", err)
	}
	if _, err := os.Stat(filepath.Join(repo, ".git", "hooks", "prepare-commit-msg")); err == nil {
		t.Errorf("installed in .git/hooks although core.hooksPath is set")
	}
	run(t, vars, repo, "lore", "hook", "uninstall")
	if h := readHooks(t, filepath.Join(repo, "shared-hooks")); len(h) != 0 {
		t.Errorf("left after uninstall: %v", h)
	}
	if v := mustGit(t, vars, repo, "config", "--get-all", "notes.rewriteRef"); v != "refs/notes/lore\n" {
		t.Errorf("the user's own notes.rewriteRef was removed: %q", v)
	}

	mustGit(t, vars, repo, "config", "core.hooksPath", ".husky/_")
	writeExec(t, filepath.Join(repo, ".husky", "_", "prepare-commit-msg"), "#!/bin/sh\n. \"$(dirname \"$0\")/h\"\n", 0o755)
	out, errOut, code := run(t, vars, repo, "lore", "hook", "install")
	if code == 0 || !strings.Contains(errOut, "husky") || !strings.Contains(errOut, "hook run prepare-commit-msg") {
		t.Errorf("install over husky: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(t, vars, repo, "lore", "hook", "install", "--force"); code != 0 || !strings.Contains(out, "kept as prepare-commit-msg.lore-chained") {
		t.Errorf("install --force over husky: exit %d\n%s%s", code, out, errOut)
	}

	// Managers that write their own scripts into .git/hooks (pre-commit,
	// lefthook) are found by what their scripts say.
	for _, m := range []struct{ name, script string }{
		{"pre-commit", "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\nexec python3 -mpre_commit hook-impl --hook-type=prepare-commit-msg \"$@\"\n"},
		{"lefthook", "#!/bin/sh\nif [ \"$LEFTHOOK\" = \"0\" ]; then exit 0; fi\nexec lefthook run \"prepare-commit-msg\" \"$@\"\n"},
	} {
		other := testenv.FixtureRepo(t)
		writeExec(t, filepath.Join(other, ".git", "hooks", "prepare-commit-msg"), m.script, 0o755)
		before := readHooks(t, filepath.Join(other, ".git", "hooks"))
		out, errOut, code := run(t, vars, other, "lore", "hook", "install")
		if code == 0 || !strings.Contains(errOut, "belong to "+m.name) || !strings.Contains(errOut, "hook run post-rewrite") {
			t.Errorf("install over %s: exit %d\n%s%s", m.name, code, out, errOut)
		}
		if h := readHooks(t, filepath.Join(other, ".git", "hooks")); !maps.Equal(h, before) {
			t.Errorf("install over %s changed the hooks folder", m.name)
		}
	}
}

// editorScript is a GIT_EDITOR that keeps a copy of the message file as
// git handed it over and writes a message of its own.
func editorScript(t *testing.T) (editor, copyPath string) {
	dir := t.TempDir()
	copyPath = filepath.Join(dir, "seen")
	editor = filepath.Join(dir, "editor.sh")
	writeExec(t, editor, "#!/bin/sh\ncp \"$1\" '"+copyPath+"'\nprintf 'edited\\n' > \"$1\"\n", 0o755)
	return editor, copyPath
}

// Without a daemon, -m keeps its message, and a plain commit opens the
// editor with one comment line saying why there is no draft.
func TestHookWithoutDaemon(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	settleHooks(t, repo)
	if out, errOut, code := run(t, vars, repo, "lore", "hook", "install"); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	editor, seen := editorScript(t)
	vars = append(vars, "GIT_EDITOR="+editor)
	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n", 0o644)
	mustGit(t, vars, repo, "add", "-A")
	mustGit(t, vars, repo, "commit")
	got, _ := os.ReadFile(seen)
	if !bytes.Contains(got, []byte("\n# lore: no draft: no lore daemon runs for this repository (start one: lore daemon --detach)\n")) {
		t.Errorf("the editor saw:\n%s", got)
	}
	if msg := mustGit(t, vars, repo, "log", "-1", "--format=%B"); msg != "edited\n\n" {
		t.Errorf("message %q", msg)
	}
	// Nothing staged: the hook does not even try.
	os.Remove(seen)
	mustGit(t, vars, repo, "commit", "--allow-empty")
	if got, _ := os.ReadFile(seen); bytes.Contains(got, []byte("lore:")) {
		t.Errorf("an empty commit got lore's comment:\n%s", got)
	}
}

// hookRepo is a fixture repository with lore's hooks, a user config
// holding settings, a running daemon that answered once, and an editor
// that keeps each message file it is handed in seenDir.
func hookRepo(t *testing.T, settings string) (vars []string, repo, seenDir string) {
	t.Helper()
	vars = testenv.Env(t)
	cfg := t.TempDir()
	writeExec(t, filepath.Join(cfg, "lore", "config.toml"), settings, 0o644)
	vars = append(vars, "XDG_CONFIG_HOME="+cfg)
	repo = testenv.FixtureRepo(t)
	settleHooks(t, repo)
	if out, errOut, code := run(t, vars, repo, "lore", "hook", "install"); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	t.Cleanup(func() { run(t, vars, repo, "lore", "stop") })
	if _, errOut, code := run(t, vars, repo, "ask", "--max-tokens", "1", "hello"); code != 0 {
		t.Fatalf("ask (starting the daemon): exit %d\n%s", code, errOut)
	}
	seenDir = t.TempDir()
	editor := filepath.Join(t.TempDir(), "editor.sh")
	writeExec(t, editor, "#!/bin/sh\ncp \"$1\" \"$(mktemp -p '"+seenDir+"' seen.XXXXXX)\"\nprintf 'edited\\n' > \"$1\"\n", 0o755)
	vars = append(vars, "GIT_EDITOR="+editor)
	return vars, repo, seenDir
}

// seen returns the message files the editor was handed since the last
// call, and forgets them.
func seen(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "seen.*"))
	var out []string
	for _, p := range m {
		b, _ := os.ReadFile(p)
		out = append(out, string(b))
		os.Remove(p)
	}
	return out
}

// draftOf is the text above git's comment lines.
func draftOf(msg string) string {
	var keep []string
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(l, "#") {
			break
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// With a daemon: a plain commit gets a draft above git's comment lines;
// -m, --amend, a squash, a merge and the commits of a rebase are left
// alone.
func TestHookDraftsWithDaemon(t *testing.T) {
	vars, repo, dir := hookRepo(t, "hook_timeout = \"3m\"\n")
	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n\n// Beta subtracts now.\nfunc Beta(a, b int) int {\n\treturn a - b\n}\n", 0o644)
	mustGit(t, vars, repo, "add", "-A")
	mustGit(t, vars, repo, "commit")
	s := seen(t, dir)
	if len(s) != 1 || draftOf(s[0]) == "" || !strings.Contains(s[0], "\n# Please enter the commit message") {
		t.Fatalf("plain commit: the editor saw %q", s)
	}
	t.Logf("the editor saw:\n%s", s[0])
	subject, _, _ := strings.Cut(draftOf(s[0]), "\n")
	if n := len([]rune(subject)); n > 72 {
		t.Errorf("subject of %d characters: %q", n, subject)
	}

	// git commit -a stages into a temporary index ($GIT_INDEX_FILE): the
	// draft is made from it, not from the repository's index.
	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n\nfunc Beta() {}\n", 0o644)
	mustGit(t, vars, repo, "commit", "-a")
	if s := seen(t, dir); len(s) != 1 || draftOf(s[0]) == "" {
		t.Errorf("commit -a: the editor saw %q", s)
	}

	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n", 0o644)
	mustGit(t, vars, repo, "add", "-A")
	mustGit(t, vars, repo, "commit", "-m", "beta: emptied")
	if msg := mustGit(t, vars, repo, "log", "-1", "--format=%B"); msg != "beta: emptied\n\n" {
		t.Errorf("commit -m: message %q", msg)
	}
	mustGit(t, vars, repo, "commit", "--amend")
	if s := seen(t, dir); len(s) != 1 || draftOf(s[0]) != "beta: emptied" {
		t.Errorf("--amend: the editor saw %q", s)
	}

	mustGit(t, vars, repo, "checkout", "-q", "-b", "side")
	writeExec(t, filepath.Join(repo, "gamma", "gamma.go"), "package gamma\n", 0o644)
	mustGit(t, vars, repo, "commit", "-qam", "gamma: emptied")
	mustGit(t, vars, repo, "checkout", "-q", "-")
	mustGit(t, vars, repo, "merge", "--squash", "side")
	mustGit(t, vars, repo, "commit")
	if s := seen(t, dir); len(s) != 1 || !strings.HasPrefix(s[0], "Squashed commit of the following") {
		t.Errorf("squash: the editor saw %q", s)
	}
	mustGit(t, vars, repo, "reset", "-q", "--hard", "HEAD~1")
	writeExec(t, filepath.Join(repo, "README.md"), "# fixture, merged\n", 0o644)
	mustGit(t, vars, repo, "commit", "-qam", "readme")
	mustGit(t, vars, repo, "merge", "--no-ff", "-e", "side")
	if s := seen(t, dir); len(s) != 1 || !strings.HasPrefix(s[0], "Merge branch 'side'") {
		t.Errorf("merge: the editor saw %q", s)
	}

	// A rebase whose exec steps make plain commits: none gets a draft.
	step := "printf x >> delta/delta.txt && git add -A && git commit"
	mustGit(t, append(vars, "GIT_SEQUENCE_EDITOR=true"), repo, "rebase", "-i", "--exec", step, "HEAD~2")
	s = seen(t, dir)
	if len(s) < 2 {
		t.Fatalf("the rebase's exec commits opened the editor %d times", len(s))
	}
	for _, m := range s {
		if d := draftOf(m); d != "" {
			t.Errorf("a commit during a rebase got a draft: %q", m)
		}
	}
}

// A daemon stopped with SIGSTOP accepts the hook's connection and never
// answers: the commit still finishes near hook_timeout, with the comment
// line, and the daemon answers once continued.
func TestHookStoppedDaemon(t *testing.T) {
	const timeout = 2 * time.Second
	vars, repo, dir := hookRepo(t, "hook_timeout = \"2s\"\n")
	out, errOut, code := run(t, vars, repo, "lore", "status", "--json")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, errOut)
	}
	var st struct{ PID int }
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.PID == 0 {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	p, _ := os.FindProcess(st.PID)
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	continued := false
	t.Cleanup(func() {
		if !continued {
			p.Signal(syscall.SIGCONT)
		}
	})
	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n", 0o644)
	mustGit(t, vars, repo, "add", "-A")
	start := time.Now()
	mustGit(t, vars, repo, "commit")
	took := time.Since(start)
	p.Signal(syscall.SIGCONT)
	continued = true
	// The margin covers starting git, the hooks and the editor on a loaded
	// machine; a hook that waited for the daemon would never finish.
	if took > timeout+10*time.Second {
		t.Errorf("the commit took %s with hook_timeout %s", took, timeout)
	}
	s := seen(t, dir)
	if len(s) != 1 || !strings.Contains(s[0], "\n# lore: no draft: the daemon did not finish within hook_timeout (2s") {
		t.Errorf("the editor saw %q", s)
	}
	if _, errOut, code := run(t, vars, repo, "lore", "status"); code != 0 {
		t.Errorf("the continued daemon does not answer: exit %d\n%s", code, errOut)
	}
}

type logEntry struct {
	Commit, Subject, Summary string
}

// waitNotes polls lore log until the n newest commits have summaries.
func waitNotes(t *testing.T, vars []string, repo string, n int) []logEntry {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, errOut, code := run(t, vars, repo, "lore", "log", "--json", "-n", fmt.Sprint(n))
		if code != 0 {
			t.Fatalf("lore log: exit %d\n%s", code, errOut)
		}
		var entries []logEntry
		if err := json.Unmarshal([]byte(out), &entries); err != nil {
			t.Fatalf("lore log --json: %v\n%s", err, out)
		}
		missing := 0
		for _, e := range entries {
			if e.Summary == "" {
				missing++
			}
		}
		if missing == 0 && len(entries) == n {
			return entries
		}
		if time.Now().After(deadline) {
			logs, _, _ := run(t, vars, repo, "lore", "logs", "-n", "30")
			t.Fatalf("%d of %d commits have no summary note after 3 minutes: %+v\n%s", missing, n, entries, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// post-commit and post-merge make the daemon write summaries as notes
// under refs/notes/lore; lore log shows them; an amended commit keeps its
// note (notes.rewriteRef).
func TestHookNotes(t *testing.T) {
	vars, repo, _ := hookRepo(t, "hook_timeout = \"3m\"\n")
	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n\n// Beta subtracts now.\nfunc Beta(a, b int) int {\n\treturn a - b\n}\n", 0o644)
	mustGit(t, vars, repo, "commit", "-qam", "beta subtracts")
	writeExec(t, filepath.Join(repo, "alpha", "alpha.go"), "package alpha\n", 0o644)
	mustGit(t, vars, repo, "commit", "-qam", "alpha emptied")
	entries := waitNotes(t, vars, repo, 2)
	if entries[0].Subject != "alpha emptied" || entries[1].Subject != "beta subtracts" {
		t.Errorf("lore log: %+v", entries)
	}
	if notes := mustGit(t, vars, repo, "notes", "--ref=lore", "list"); strings.Count(notes, "\n") != 2 {
		t.Errorf("notes under refs/notes/lore:\n%s", notes)
	}

	// An amend of the message alone keeps the note git copied; an amend
	// that changes the commit gets a new one (post-rewrite).
	note := mustGit(t, vars, repo, "notes", "--ref=lore", "show", "HEAD")
	mustGit(t, vars, repo, "commit", "-q", "--amend", "-m", "alpha: emptied")
	amended := strings.TrimSpace(mustGit(t, vars, repo, "rev-parse", "HEAD"))

	mustGit(t, vars, repo, "checkout", "-q", "-b", "side")
	writeExec(t, filepath.Join(repo, "gamma", "gamma.go"), "package gamma\n", 0o644)
	mustGit(t, vars, repo, "commit", "-qam", "gamma emptied")
	mustGit(t, vars, repo, "checkout", "-q", "-")
	mustGit(t, vars, repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
	entries = waitNotes(t, vars, repo, 1)
	if entries[0].Subject != "merge side" || !strings.HasPrefix(entries[0].Summary, "Brought in since ") {
		t.Errorf("the merge's note: %+v", entries[0])
	}
	out, _, code := run(t, vars, repo, "lore", "log", "-n", "1")
	if code != 0 || !strings.Contains(out, " merge side\n    Brought in since ") {
		t.Errorf("lore log:\n%s", out)
	}
	// Notes are written in order: the amend's was decided before the merge's.
	if got := mustGit(t, vars, repo, "notes", "--ref=lore", "show", amended); got != note {
		t.Errorf("the message-only amend's note %q, want the original's %q", got, note)
	}

	// The amended merge gets its note copied by git, then rewritten: it is
	// summarized as a commit, against its first parent.
	writeExec(t, filepath.Join(repo, "README.md"), "# fixture, amended\n", 0o644)
	mustGit(t, vars, repo, "commit", "-q", "-a", "--amend", "--no-edit")
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if got := mustGit(t, vars, repo, "notes", "--ref=lore", "show", "HEAD"); !strings.HasPrefix(got, "Brought in since ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the amend that changed the merge kept the merge's note")
		}
	}

	// git pull that fast-forwards: post-merge notes what it brought.
	upstream := filepath.Join(t.TempDir(), "upstream")
	mustGit(t, vars, repo, "clone", "-q", repo, upstream)
	writeExec(t, filepath.Join(upstream, "delta", "delta.go"), "package delta\n\n// Delta is new upstream.\nfunc Delta() int { return 4 }\n", 0o644)
	mustGit(t, vars, upstream, "add", "-A")
	mustGit(t, vars, upstream, "commit", "-qm", "delta added upstream")
	mustGit(t, vars, repo, "pull", "-q", "--ff-only", upstream, "HEAD")
	entries = waitNotes(t, vars, repo, 1)
	if entries[0].Subject != "delta added upstream" || !strings.HasPrefix(entries[0].Summary, "Brought in since ") {
		t.Errorf("the pull's note: %+v", entries[0])
	}
}

// A commit made while no daemon runs waits in the pending folder; the next
// daemon writes its note once idle.
func TestHookPendingNotes(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	settleHooks(t, repo)
	t.Cleanup(func() { run(t, vars, repo, "lore", "stop") })
	if out, errOut, code := run(t, vars, repo, "lore", "hook", "install"); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n", 0o644)
	mustGit(t, vars, repo, "commit", "-qam", "beta emptied")
	head := strings.TrimSpace(mustGit(t, vars, repo, "rev-parse", "HEAD"))
	pending := filepath.Join(repo, ".git", "lore", "pending-notes", head)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pending); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pending note at %s a minute after the commit", pending)
		}
	}
	if out, errOut, code := run(t, vars, repo, "lore", "daemon", "--detach"); code != 0 {
		t.Fatalf("daemon --detach: exit %d\n%s%s", code, out, errOut)
	}
	if entries := waitNotes(t, vars, repo, 1); entries[0].Subject != "beta emptied" {
		t.Errorf("lore log: %+v", entries)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pending); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pending note %s stays after its note was written", pending)
		}
	}
}

// Commits made while no hook ran get their notes from lore summarize
// --missing.
func TestSummarizeMissing(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	settleHooks(t, repo)
	t.Cleanup(func() { run(t, vars, repo, "lore", "stop") })
	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n", 0o644)
	mustGit(t, vars, repo, "commit", "-qam", "beta emptied")
	if out, errOut, code := run(t, vars, repo, "lore", "summarize", "--missing"); code != 0 || !strings.Contains(out, "queued 2 commits") {
		t.Fatalf("summarize --missing: exit %d\n%s%s", code, out, errOut)
	}
	waitNotes(t, vars, repo, 2)
	if out, _, code := run(t, vars, repo, "lore", "summarize", "--missing"); code != 0 || !strings.Contains(out, "every commit looked at has a summary note") {
		t.Errorf("summarize --missing again: exit %d\n%s", code, out)
	}
	out, errOut, code := run(t, vars, repo, "lore", "summarize", "--json", "--max-tokens", "4", "HEAD")
	if code != 0 || !strings.Contains(out, `"range": "HEAD"`) || !strings.Contains(out, `"path": "beta/beta.go"`) {
		t.Errorf("summarize HEAD --json: exit %d\n%s%s", code, out, errOut)
	}
}

// hook_start_daemon: a plain commit that finds no daemon gets the comment
// line at once and starts one for the next commit.
func TestHookStartsDaemon(t *testing.T) {
	vars := testenv.Env(t)
	cfg := t.TempDir()
	writeExec(t, filepath.Join(cfg, "lore", "config.toml"), "hook_start_daemon = true\n", 0o644)
	vars = append(vars, "XDG_CONFIG_HOME="+cfg)
	repo := testenv.FixtureRepo(t)
	settleHooks(t, repo)
	t.Cleanup(func() { run(t, vars, repo, "lore", "stop") })
	if out, errOut, code := run(t, vars, repo, "lore", "hook", "install"); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	editor, seenPath := editorScript(t)
	vars = append(vars, "GIT_EDITOR="+editor)
	writeExec(t, filepath.Join(repo, "beta", "beta.go"), "package beta\n", 0o644)
	mustGit(t, vars, repo, "add", "-A")
	mustGit(t, vars, repo, "commit")
	if got, _ := os.ReadFile(seenPath); !bytes.Contains(got, []byte("# lore: no draft: no lore daemon runs")) {
		t.Errorf("the editor saw:\n%s", got)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, _, code := run(t, vars, repo, "lore", "status")
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no daemon runs a minute after the hook was to start one (status exit %d)", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
