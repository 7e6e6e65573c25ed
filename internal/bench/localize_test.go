package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lore/api"
	"lore/config"
	"lore/engine"
	"lore/internal/testenv"
)

// localizeRepo makes a repository whose history holds one commit of each
// kind the benchmark must tell apart: small files the pack holds in full, a
// large one it can only hold as a skeleton, and commits that do not
// qualify (a short message, a merge, only a new file, too many files, no
// source file).
func localizeRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	small := func(v int) {
		write("small.go", fmt.Sprintf("package p\n\n// Greeting says hello.\nfunc Greeting() string { return \"hello %d\" }\n", v))
		write("small_test.go", fmt.Sprintf("package p\n\nimport \"testing\"\n\nfunc TestGreeting(t *testing.T) {\n\tif Greeting() != \"hello %d\" {\n\t\tt.Fatal(Greeting())\n\t}\n}\n", v))
	}
	// big.go: five definitions with long bodies, about 20,000 tokens: too
	// large for the pack at a 4,096-token context, for the retrieval room
	// and for the whole context, and without any word of the messages that
	// do not name it.
	big := func(v int) {
		var b strings.Builder
		b.WriteString("package p\n\n")
		for _, name := range []string{"alpha", "beta", "gamma", "delta", "epsilon"} {
			fmt.Fprintf(&b, "func %s() int {\n\tx := %d\n", name, v)
			for k := 0; k < 400; k++ {
				fmt.Fprintf(&b, "\tx = x*3 + %d\n", k)
			}
			b.WriteString("\treturn x\n}\n\n")
		}
		write("big.go", b.String())
	}
	tiny := func(v int) {
		for k := 1; k <= 7; k++ {
			write(fmt.Sprintf("t%d.go", k), fmt.Sprintf("package p\n\nvar T%d = %d\n", k, v))
		}
	}
	git("init", "-q", "-b", "main")
	small(0)
	big(0)
	tiny(0)
	write("README.md", "# p\n")
	git("add", "-A")
	git("commit", "-qm", "initial commit of the package files")

	small(1)
	git("commit", "-qam", "Adjust the greeting that the helper returns")
	big(1)
	git("commit", "-qam", "Tune the loop bounds in the arithmetic code")
	big(2)
	git("commit", "-qam", "Rework big.go so that alpha returns earlier")
	small(2)
	git("commit", "-qam", "short")
	git("checkout", "-qb", "side")
	small(3)
	git("commit", "-qam", "a side branch change with a long message")
	git("checkout", "-q", "main")
	git("merge", "-q", "--no-ff", "-m", "Merge the side branch with a long message", "side")
	write("new.go", "package p\n\nvar New = 1\n")
	git("add", "new.go")
	git("commit", "-qm", "Add a new file and nothing else at all")
	tiny(1)
	git("commit", "-qam", "Change seven small files in one commit")
	write("README.md", "# p\n\nMore words.\n")
	git("commit", "-qam", "Document the package in the read-me file")
	return dir
}

func TestBenchLocalizeAccounting(t *testing.T) {
	dir := localizeRepo(t)
	rep, err := benchLocalize(context.Background(), dir, localizeOptions{Commits: 10, Contexts: []int{4096}})
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, c := range rep.PerCommit {
		subjects = append(subjects, c.Subject)
	}
	want := []string{"Adjust the greeting that the helper returns", "Tune the loop bounds in the arithmetic code", "Rework big.go so that alpha returns earlier"}
	if !slices.Equal(subjects, want) {
		t.Fatalf("qualifying commits %q, want %q (oldest first)", subjects, want)
	}
	at := func(i int, m string) localizeOutcome {
		c := rep.PerCommit[i]
		if len(c.At) != 1 || c.At[0].Context != 4096 {
			t.Fatalf("commit %d measured at %+v", i, c.At)
		}
		return c.At[0].Methods[m]
	}

	// The small files are in the prefix in full: visible to every method,
	// without retrieving anything.
	c := rep.PerCommit[0]
	if !slices.Equal(c.Files, []string{"small.go", "small_test.go"}) || !c.Tests {
		t.Fatalf("first commit: files %q, tests %v", c.Files, c.Tests)
	}
	for _, m := range localizeMethods {
		if o := at(0, m); len(o.Visible) != 2 {
			t.Errorf("%s: the small files in the prefix are not visible: %+v", m, o)
		}
	}
	if o := at(0, methodPrefix); o.QuestionTokens != 0 || len(o.Selected) != 0 {
		t.Errorf("the prefix alone added %+v for the question", o)
	}
	if o := at(0, methodBM25Whole); o.QuestionTokens == 0 || !slices.Contains(o.Selected, "small.go") {
		t.Errorf("BM25 over the whole context did not prefill the files it shows: %+v", o)
	}

	// big.go is only a skeleton and the message does not name it: no
	// method sees it in full.
	c = rep.PerCommit[1]
	if !slices.Equal(c.Files, []string{"big.go"}) || c.Tests {
		t.Fatalf("second commit: files %q, tests %v", c.Files, c.Tests)
	}
	for _, m := range localizeMethods {
		if o := at(1, m); len(o.Visible) != 0 {
			t.Errorf("%s: the skeleton big.go counted as visible: %+v", m, o)
		}
	}
	// Named, it is retrieved, but only as an excerpt: still not in full.
	if o := at(2, methodLore); len(o.Visible) != 0 || !slices.Equal(o.Excerpts, []string{"big.go"}) || o.QuestionTokens == 0 {
		t.Errorf("lore on the commit naming big.go: %+v, want an excerpt of big.go and nothing visible", o)
	}

	// The summary: one commit of three fully visible to lore, the one with
	// tests.
	if len(rep.Contexts) != 1 {
		t.Fatalf("contexts %+v", rep.Contexts)
	}
	lc := rep.Contexts[0]
	if lc.PackBudget != 4096-1024-1 || lc.RetrievalRoom != 512 || lc.PrefixTokens <= 0 || lc.PrefixTokens > float64(lc.PackBudget) {
		t.Errorf("context summary %+v", lc)
	}
	lore := lc.Methods[0]
	if lore.Method != methodLore || lore.All.Commits != 3 || math.Abs(lore.All.Recall-1.0/3) > 1e-9 || math.Abs(lore.All.AllVisible-1.0/3) > 1e-9 ||
		lore.WithTests.Commits != 1 || lore.WithTests.Recall != 1 || lore.NoTests.Commits != 2 || lore.NoTests.Recall != 0 {
		t.Errorf("lore's summary %+v", lore)
	}

	// The temporary worktree is gone.
	out, err := exec.Command("git", "-C", dir, "worktree", "list").Output()
	if err != nil || strings.Count(string(out), "\n") != 1 {
		t.Errorf("worktrees left: %s (%v)", out, err)
	}
}

func TestBenchLocalizeNoQualifyingCommit(t *testing.T) {
	dir := historyRepo(t, 3, 2) // messages "change N": too short
	_, err := benchLocalize(context.Background(), dir, localizeOptions{Commits: 5})
	if err == nil || !strings.Contains(err.Error(), "qualifies") {
		t.Fatalf("err %v, want none qualifies", err)
	}
}

// TestBenchLocalizeIsTheDaemon holds the benchmark to what a real daemon
// does at the same commit: a daemon started on a clone of the measured
// commit's parent, with the same context, holds in full exactly the files
// the benchmark's prefix holds, has as many tokens in its pack, and
// retrieves the same files for the commit message.
func TestBenchLocalizeIsTheDaemon(t *testing.T) {
	vars := append(testenv.Env(t), config.EnvContext+"=4096")
	dir := localizeRepo(t)
	eng, err := engine.Open(engine.Config{LibDir: testenv.LibDir(t), ModelPath: testenv.TinyModel(t), ContextSize: 512, Sequences: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	_, bos := eng.BOS()
	rep, err := benchLocalize(context.Background(), dir, localizeOptions{
		Commits: 1, Contexts: []int{4096}, NoBOS: !bos,
		Count: func(s string) int { return len(eng.Tokenize(s)) }, Counter: "tiny",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.PerCommit[0]
	at := c.At[0]
	if len(at.retrieved) == 0 {
		t.Fatalf("the benchmark retrieved nothing for %q: the comparison needs a retrieval", c.message)
	}

	// The daemon's repository: the parent checked out in a clone of the
	// same name (the preamble shows it).
	clone := filepath.Join(t.TempDir(), filepath.Base(dir))
	for _, args := range [][]string{{"clone", "-q", dir, clone}, {"-C", clone, "checkout", "-q", "--detach", c.parent}} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	bin := testenv.Binaries(t)
	run := func(name string, args ...string) []byte {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Env, cmd.Dir = vars, clone
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return out
	}
	var ans api.AskResult
	t.Cleanup(func() {
		cmd := exec.Command(filepath.Join(bin, "lore"), "stop", "--repo", clone)
		cmd.Env = vars
		cmd.Run()
	})
	lines := strings.Split(strings.TrimRight(string(run("ask", "--json", "--max-tokens", "1", c.message)), "\n"), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &ans); err != nil { // after the streamed answer
		t.Fatal(err)
	}
	var st api.Status
	if err := json.Unmarshal(run("lore", "status", "--json"), &st); err != nil {
		t.Fatal(err)
	}
	run("lore", "stop")

	omitted := map[string]bool{}
	for _, o := range ans.Omitted {
		omitted[o.Path] = true
	}
	var full []string
	out, err := exec.Command("git", "-C", clone, "ls-files").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		if !omitted[p] {
			full = append(full, p)
		}
	}
	slices.Sort(full)
	if !slices.Equal(full, at.full) {
		t.Errorf("the daemon holds in full %q, the benchmark %q", full, at.full)
	}
	if st.PackTokens != at.PrefixTokens {
		t.Errorf("the daemon's pack has %d tokens, the benchmark's %d", st.PackTokens, at.PrefixTokens)
	}
	if !slices.Equal(ans.Retrieved, at.retrieved) {
		t.Errorf("the daemon retrieved %q, the benchmark %q", ans.Retrieved, at.retrieved)
	}
}
