package cli_test

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	dir := filepath.Join(repo, ".git", "hooks")
	writeExec(t, filepath.Join(dir, "prepare-commit-msg"), "#!/bin/sh\necho \"the earlier hook ran on $1\" >&2\n[ -z \"$FAIL_HOOK\" ]\n", 0o755)
	writeExec(t, filepath.Join(dir, "post-merge"), "#!/bin/sh\nexit 0\n", 0o640) // not executable: git does not run it
	if err := os.Symlink("../../tools/post-commit.sh", filepath.Join(dir, "post-commit")); err != nil {
		t.Fatal(err)
	}
	before := readHooks(t, dir)

	out, errOut, code := run(t, vars, repo, "lore", "hook", "install")
	if code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	installed := readHooks(t, dir)
	for _, name := range []string{"prepare-commit-msg", "post-commit", "post-merge"} {
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
	if out, _, code := run(t, vars, repo, "lore", "hook", "install"); code != 0 || strings.Count(out, "already installed") != 3 {
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
