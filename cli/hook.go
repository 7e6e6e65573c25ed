package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"lore/internal/atomicfile"
	"lore/internal/cmdline"
)

const hookUsage = `Git hooks that draft commit messages and keep commit summaries as git
notes (refs/notes/lore). They never block a commit: past hook_timeout, with
no daemon running, or on any error the draft is a comment line instead.
`

// hookNames are the hooks lore installs.
var hookNames = []string{"prepare-commit-msg", "post-commit", "post-merge", "post-rewrite"}

// Marks of lore's hook scripts and the hooks they chain.
const (
	hookMarker   = "# lore-hook: "
	hookVersion  = "1"
	chainedExt   = ".lore-chained"
	notesRef     = "refs/notes/lore"
	hookStateLog = "lore-hooks.json" // in the git folder: what install changed in the config
)

// hookManagers are words in a hook script, or in core.hooksPath, that show
// a hook manager owns the hooks; lore is added to its configuration instead.
var hookManagers = []string{"husky", "pre-commit", "lefthook", "overcommit", "simple-git-hooks", "yorkie"}

// hookUsages are the help texts of lore hook's commands.
var hookUsages = map[string]string{
	"install": `Usage: lore hook install [--repo DIR] [--force]

Installs prepare-commit-msg, post-commit, post-merge and post-rewrite in
the folder git uses (core.hooksPath is respected); a hook already there is
kept and still runs first. Where a hook manager owns the hooks, lore says what to add to its
configuration instead, unless --force.

` + hookUsage,
	"uninstall": `Usage: lore hook uninstall [--repo DIR]

Removes lore's hooks and puts back what was there.

` + hookUsage,
	"status": `Usage: lore hook status [--repo DIR]

Says which of lore's hooks are installed, and where.

` + hookUsage,
}

// runHook runs lore hook CMD; args[0] is the command.
func runHook(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cmdline.UsageErr("lore hook needs a command: install, uninstall or status")
	}
	cmd, rest := args[0], args[1:]
	if cmd == "run" {
		return runHookRun(rest, stdout, stderr)
	}
	usage, ok := hookUsages[cmd]
	if !ok {
		return cmdline.UsageErr("unknown hook command %q", cmd)
	}
	fs := cmdline.NewFlagSet("lore hook "+cmd, usage, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	force := false
	if cmd == "install" {
		fs.BoolVar(&force, "force", false, "install even where a hook manager (husky, pre-commit, lefthook, ...) owns the hooks")
	}
	root, err := cmdline.ParseRepo(fs, rest, repo)
	if err != nil {
		return err
	}
	h, err := openHooks(root)
	if err != nil {
		return err
	}
	switch cmd {
	case "install":
		return h.install(stdout, force)
	case "uninstall":
		return h.uninstall(stdout)
	default:
		return h.status(stdout)
	}
}

// hooks is a repository's hooks folder as git finds it.
type hooks struct {
	root    string // work tree
	dir     string // hooks folder (absolute)
	gitDir  string // the repository's git folder (absolute; per worktree)
	managed string // core.hooksPath, when set
	lore    string // absolute path of this lore binary
}

func openHooks(root string) (*hooks, error) {
	h := &hooks{root: root}
	dir, err := gitIn(root, "rev-parse", "--git-path", "hooks")
	if err != nil {
		return nil, err
	}
	h.dir = absIn(root, dir)
	gd, err := gitIn(root, "rev-parse", "--git-common-dir")
	if err != nil {
		return nil, err
	}
	h.gitDir = absIn(root, gd)
	h.managed, _ = gitIn(root, "config", "--get", "core.hooksPath")
	if h.lore, err = os.Executable(); err != nil {
		return nil, fmt.Errorf("finding the lore binary for the hooks to call: %w", err)
	}
	return h, nil
}

func absIn(root, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(root, p)
}

// gitIn runs git in dir and returns its trimmed output.
func gitIn(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// script is lore's hook NAME: the hook it replaced runs first (its failure
// is the hook's), then lore, whose own failure never fails git. What lore
// would skip anyway is decided in the script, and post-commit and
// post-merge leave lore running in the background, so that a commit waits
// for a shell and at most one git command (see lore bench hooks).
func (h *hooks) script(name string) string {
	lore := "'" + strings.ReplaceAll(h.lore, "'", `'\''`) + "'"
	run := `"$lore" hook run ` + name + ` "$@" </dev/null >&2 || :`
	switch name {
	case "prepare-commit-msg":
		// Only a plain git commit (no -m, -F, template, merge, squash,
		// -c/-C/--amend) gets a draft.
		run = `[ -z "$2" ] || exit 0
	` + run
	case "post-commit":
		// HEAD is resolved now: the next commit may come before lore runs.
		run = `head=$(git rev-parse -q --verify HEAD) || exit 0
	"$lore" hook run post-commit "$head" </dev/null >/dev/null 2>&1 &`
	case "post-merge":
		run = `"$lore" hook run post-merge "$@" </dev/null >/dev/null 2>&1 &`
	case "post-rewrite":
		// Only an amend: after a rebase git has copied the notes. git
		// gives one "old new" line on stdin (read above, the chained hook
		// gets it too).
		run = `[ "$1" = amend ] || exit 0
	set -- $input
	"$lore" hook run post-rewrite amend "$1" "$2" </dev/null >/dev/null 2>&1 &`
	}
	chain := `"$0` + chainedExt + `" "$@" || exit $?`
	read := ""
	if name == "post-rewrite" {
		read = "input=$(cat)\n"
		chain = `printf '%s\n' "$input" | "$0` + chainedExt + `" "$@" || exit $?`
	}
	return `#!/bin/sh
# Installed by ` + "`lore hook install`" + `; ` + "`lore hook uninstall`" + ` puts back what was here.
` + hookMarker + hookVersion + `
lore=` + lore + `
` + read + `if [ -x "$0` + chainedExt + `" ]; then
	` + chain + `
fi
if [ -x "$lore" ]; then
	` + run + `
fi
exit 0
`
}

func isLoreHook(body []byte) bool { return bytes.Contains(body, []byte("\n"+hookMarker)) }

// manager names the hook manager that owns the hooks, or "".
func (h *hooks) manager() string {
	for _, m := range hookManagers {
		if strings.Contains(strings.ToLower(h.managed), m) {
			return m
		}
	}
	for _, name := range hookNames {
		body, err := os.ReadFile(filepath.Join(h.dir, name))
		if err != nil || isLoreHook(body) {
			continue
		}
		for _, m := range hookManagers {
			if bytes.Contains(bytes.ToLower(body), []byte(m)) {
				return m
			}
		}
	}
	return ""
}

func (h *hooks) install(stdout io.Writer, force bool) error {
	if m := h.manager(); m != "" && !force {
		return fmt.Errorf("the hooks in %s belong to %s: add lore to its configuration instead, as these lines in its prepare-commit-msg, post-commit, post-merge and post-rewrite hooks:\n"+
			"  %s hook run prepare-commit-msg \"$1\" \"$2\" \"$3\" || true\n  %s hook run post-commit || true\n  %s hook run post-merge \"$1\" || true\n  %s hook run post-rewrite \"$1\" || true\n"+
			"(or run `lore hook install --force` to chain its hooks from lore's)", h.dir, m, h.lore, h.lore, h.lore, h.lore)
	}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return fmt.Errorf("making the hooks folder: %w", err)
	}
	for _, name := range hookNames {
		p := filepath.Join(h.dir, name)
		want := h.script(name)
		body, err := os.ReadFile(p)
		switch {
		case err == nil && isLoreHook(body):
			if string(body) == want {
				fmt.Fprintf(stdout, "%s: already installed\n", name)
				continue
			}
		case err == nil || isSymlink(p):
			if _, err := os.Lstat(p + chainedExt); err == nil {
				return fmt.Errorf("%s exists and so does %s from an earlier install: move one of them away, then install again", p, p+chainedExt)
			}
			if err := os.Rename(p, p+chainedExt); err != nil {
				return fmt.Errorf("keeping the existing %s hook: %w", name, err)
			}
			fmt.Fprintf(stdout, "%s: the existing hook is kept as %s and runs first\n", name, filepath.Base(p+chainedExt))
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("reading the %s hook: %w", name, err)
		}
		if err := atomicfile.Write(p, []byte(want), 0o755); err != nil {
			return fmt.Errorf("writing the %s hook: %w", name, err)
		}
		fmt.Fprintf(stdout, "%s: installed in %s\n", name, h.dir)
	}
	return h.setRewriteRef(stdout)
}

func isSymlink(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// hookState is what install changed in the repository's config, so that
// uninstall undoes only that.
type hookState struct {
	AddedRewriteRef bool `json:"added_rewrite_ref"`
}

func (h *hooks) statePath() string { return filepath.Join(h.gitDir, hookStateLog) }

// setRewriteRef makes git copy lore's notes when commits are amended or
// rebased.
func (h *hooks) setRewriteRef(stdout io.Writer) error {
	refs, _ := gitIn(h.root, "config", "--get-all", "notes.rewriteRef")
	for _, r := range strings.Fields(refs) {
		if r == notesRef {
			return nil
		}
	}
	if _, err := gitIn(h.root, "config", "--add", "notes.rewriteRef", notesRef); err != nil {
		return err
	}
	body, _ := json.Marshal(hookState{AddedRewriteRef: true})
	if err := atomicfile.Write(h.statePath(), body, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "notes.rewriteRef = %s: summaries follow amended and rebased commits\n", notesRef)
	return nil
}

func (h *hooks) uninstall(stdout io.Writer) error {
	for _, name := range hookNames {
		p := filepath.Join(h.dir, name)
		body, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && !isSymlink(p) {
			fmt.Fprintf(stdout, "%s: not installed\n", name)
			continue
		}
		if err == nil && !isLoreHook(body) || err != nil && isSymlink(p) {
			fmt.Fprintf(stdout, "%s: not lore's hook, left alone\n", name)
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the %s hook: %w", name, err)
		}
		if _, err := os.Lstat(p + chainedExt); err == nil {
			if err := os.Rename(p+chainedExt, p); err != nil {
				return fmt.Errorf("putting back the %s hook: %w", name, err)
			}
			fmt.Fprintf(stdout, "%s: the earlier hook is back\n", name)
			continue
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("removing the %s hook: %w", name, err)
		}
		fmt.Fprintf(stdout, "%s: removed\n", name)
	}
	body, err := os.ReadFile(h.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var st hookState
	if err != nil || json.Unmarshal(body, &st) != nil {
		return fmt.Errorf("reading %s (what install changed): %v; remove it, and notes.rewriteRef = %s if you do not want it", h.statePath(), err, notesRef)
	}
	if st.AddedRewriteRef {
		// The value is a regular expression: only lore's ref goes.
		if _, err := gitIn(h.root, "config", "--unset", "notes.rewriteRef", "^refs/notes/lore$"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "notes.rewriteRef = %s removed\n", notesRef)
	}
	return os.Remove(h.statePath())
}

func (h *hooks) status(stdout io.Writer) error {
	fmt.Fprintf(stdout, "hooks folder  %s", h.dir)
	if h.managed != "" {
		fmt.Fprintf(stdout, " (core.hooksPath)")
	}
	fmt.Fprintln(stdout)
	for _, name := range hookNames {
		p := filepath.Join(h.dir, name)
		body, err := os.ReadFile(p)
		state := "not installed"
		switch {
		case err == nil && isLoreHook(body):
			state = "installed"
			if string(body) != h.script(name) {
				state = "installed by another lore binary or version (`lore hook install` updates it)"
			}
		case err == nil || isSymlink(p):
			state = "another hook (not lore's)"
		}
		if _, err := os.Lstat(p + chainedExt); err == nil {
			state += ", chaining " + filepath.Base(p+chainedExt)
		}
		fmt.Fprintf(stdout, "%-19s %s\n", name, state)
	}
	if m := h.manager(); m != "" {
		fmt.Fprintf(stdout, "hook manager  %s owns the hooks: add lore to its configuration (see `lore hook install`)\n", m)
	}
	refs, _ := gitIn(h.root, "config", "--get-all", "notes.rewriteRef")
	if refs == "" {
		refs = "(unset: summaries do not follow amended and rebased commits)"
	}
	fmt.Fprintf(stdout, "rewriteRef    %s\n", strings.Join(strings.Fields(refs), ", "))
	return nil
}
