package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lore/internal/testenv"
)

// TestSessionCommands: ask --session keeps a conversation that lore
// session lists, shows, exports as Markdown and deletes; ask --file/--lines
// point a question at code.
func TestSessionCommands(t *testing.T) {
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	t.Cleanup(func() { run(t, vars, repo, "lore", "stop") })

	for i, q := range []string{"How should Beta change?", "What goes first?"} {
		out, errOut, code := run(t, vars, repo, "ask", "--json", "--max-tokens", "8", "--session", "refactor", q)
		if code != 0 {
			t.Fatalf("ask --session exit %d:\n%s", code, errOut)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		var res struct {
			Session string `json:"session"`
			Turn    int    `json:"session_turn"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || res.Session != "refactor" || res.Turn != i+1 {
			t.Fatalf("turn %d: %+v %v\n%s", i+1, res, err, out)
		}
	}
	out, errOut, code := run(t, vars, repo, "lore", "session", "list")
	if code != 0 || !strings.Contains(out, "refactor") || !strings.Contains(out, "TURNS") {
		t.Fatalf("session list exit %d:\n%s%s", code, out, errOut)
	}
	out, _, code = run(t, vars, repo, "lore", "session", "list", "--json")
	var list []struct {
		Name  string `json:"name"`
		Turns int    `json:"turns"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Turns != 2 {
		t.Fatalf("session list --json: %s", out)
	}
	md := filepath.Join(t.TempDir(), "refactor.md")
	if _, errOut, code := run(t, vars, repo, "lore", "session", "export", "-o", md, "refactor"); code != 0 {
		t.Fatalf("session export exit %d:\n%s", code, errOut)
	}
	b, err := os.ReadFile(md)
	if err != nil || !strings.HasPrefix(string(b), "# Planning session: refactor") || !strings.Contains(string(b), "## 2. What goes first?") {
		t.Fatalf("exported Markdown:\n%s", b)
	}
	out, _, _ = run(t, vars, repo, "lore", "session", "show", "refactor")
	if !strings.Contains(out, "## 1. How should Beta change?") {
		t.Fatalf("session show:\n%s", out)
	}
	if _, errOut, code := run(t, vars, repo, "lore", "session", "rm", "refactor"); code != 0 {
		t.Fatalf("session rm exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, vars, repo, "lore", "session", "show", "refactor"); code != 1 || !strings.Contains(errOut, `no session named "refactor"`) {
		t.Fatalf("show after rm: exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, vars, repo, "lore", "session", "frob"); code != 2 || !strings.Contains(errOut, `unknown command "frob" for "lore session"`) {
		t.Fatalf("unknown session command: exit %d: %s", code, errOut)
	}

	// A question about lines of a file.
	if _, errOut, code := run(t, vars, filepath.Join(repo, "beta"), "ask", "--max-tokens", "4", "--file", "beta.go", "--lines", "1-3", "What is this?"); code != 0 {
		t.Fatalf("ask --file exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, vars, repo, "ask", "--lines", "1-3", "What?"); code != 2 || !strings.Contains(errOut, "--lines needs --file") {
		t.Fatalf("--lines alone: exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, vars, repo, "ask", "--file", "beta/beta.go", "--lines", "3-1", "What?"); code != 2 {
		t.Fatalf("--lines 3-1: exit %d: %s", code, errOut)
	}
	// Git's own files and symlinks out of the repository are not lore's to read.
	if err := os.Symlink("/etc/passwd", filepath.Join(repo, "plink")); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{".git/config": "inside .git", "plink": "not inside the repository"} {
		if out, errOut, code := run(t, vars, repo, "ask", "--max-tokens", "4", "--file", file, "What is this?"); code == 0 || !strings.Contains(errOut, want) || out != "" {
			t.Fatalf("ask --file %s: exit %d, stdout %q, stderr %s", file, code, out, errOut)
		}
	}
}
