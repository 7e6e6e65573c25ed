package edit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitApply writes files into a fresh folder, applies patch there with the
// real git apply (--check first) and returns the folder's files after.
func gitApply(t *testing.T, files map[string]string, patch string) map[string]string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	dir := t.TempDir()
	for p, text := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"apply", "--check", "-"}, {"apply", "-"}} {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(patch)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s\npatch:\n%s", strings.Join(args, " "), err, out, patch)
		}
	}
	after := map[string]string{}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		after[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return after
}

func TestUnifiedDiffGitApply(t *testing.T) {
	long := ""
	for i := range 40 {
		long += strings.Repeat("x", i%7) + "line\n"
	}
	files := map[string]string{
		"p.go":          goFile,
		"dir/long.txt":  long,
		"noeol.txt":     "a\nb\nc",
		"addeol.txt":    "a\nb",
		"gone.go":       "package gone\n",
		"gone-empty":    "",
		"crlf.txt":      "one\r\ntwo\r\nthree\r\n",
		"untouched.txt": "same\n",
	}
	changes := []Change{
		{Path: "addeol.txt", Old: "a\nb", New: "a\nb\n", Existed: true},
		{Path: "crlf.txt", Old: files["crlf.txt"], New: "one\r\n2\r\nthree\r\n", Existed: true},
		{Path: "dir/long.txt", Old: long, New: strings.Replace(strings.Replace(long, "xline\n", "xline\nnew\n", 1), "xxxxxxline\n", "", 1), Existed: true},
		{Path: "gone-empty", Existed: true, Delete: true},
		{Path: "gone.go", Old: "package gone\n", Existed: true, Delete: true},
		{Path: "new/empty", New: ""},
		{Path: "new/n.go", New: "package n\n"},
		{Path: "noeol.txt", Old: "a\nb\nc", New: "a\nB\nc", Existed: true},
		{Path: "p.go", Old: goFile, New: strings.Replace(strings.Replace(goFile, `"a"`, `"A"`, 1), "return -x", "return 0 - x", 1), Existed: true},
		{Path: "untouched.txt", Old: "same\n", New: "same\n", Existed: true},
	}
	patch := UnifiedDiff(changes)
	if strings.Contains(patch, "untouched.txt") {
		t.Errorf("the patch names a file without a change:\n%s", patch)
	}
	after := gitApply(t, files, patch)
	want := map[string]string{}
	for p, text := range files {
		want[p] = text
	}
	for _, c := range changes {
		if c.Delete {
			delete(want, c.Path)
		} else {
			want[c.Path] = c.New
		}
	}
	for p, text := range want {
		if after[p] != text {
			t.Errorf("%s after git apply: %q, want %q", p, after[p], text)
		}
	}
	for p := range after {
		if _, ok := want[p]; !ok {
			t.Errorf("%s exists after git apply", p)
		}
	}
}

func TestDiffLines(t *testing.T) {
	for _, tc := range [][2]string{
		{"", ""}, {"a b c", ""}, {"", "a b"}, {"a b c", "a b c"}, {"a b c a b b a", "c b a b a c"},
		{"x a b c y", "x c b a y"}, {"a a a a", "a b a b a"},
	} {
		a, b := strings.Fields(tc[0]), strings.Fields(tc[1])
		var gotA, gotB []string
		edits := 0
		for _, o := range diffLines(a, b) {
			switch o.kind {
			case '=':
				if a[o.a] != b[o.b] {
					t.Fatalf("%v → %v: kept %q as %q", a, b, a[o.a], b[o.b])
				}
				gotA, gotB = append(gotA, a[o.a]), append(gotB, b[o.b])
			case '-':
				gotA = append(gotA, a[o.a])
				edits++
			case '+':
				gotB = append(gotB, b[o.b])
				edits++
			}
		}
		if strings.Join(gotA, " ") != strings.Join(a, " ") || strings.Join(gotB, " ") != strings.Join(b, " ") {
			t.Errorf("%v → %v: the script rebuilds %v and %v", a, b, gotA, gotB)
		}
		if lcs := lcsLen(a, b); edits != len(a)+len(b)-2*lcs {
			t.Errorf("%v → %v: %d edits, the shortest has %d", a, b, edits, len(a)+len(b)-2*lcs)
		}
	}
}

func lcsLen(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// historyChanges are the file changes of the last n non-merge
// first-parent commits of the repository this package sits in, read with
// the real git: one []Change per commit, binary files left out.
func historyChanges(t *testing.T, n int) [][]Change {
	t.Helper()
	gitOut := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		cmd := exec.Command("git", args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", &exec.Error{Name: "git " + strings.Join(args, " ") + ": " + errb.String(), Err: err}
		}
		return out.String(), nil
	}
	top, err := gitOut("rev-parse", "--show-toplevel")
	if err != nil {
		if os.Getenv("LORE_TEST_REQUIRE") != "" {
			t.Fatalf("this test reads the history of lore's own repository: %v", err)
		}
		t.Skipf("not in a git work tree with history: %v", err)
	}
	top = strings.TrimSpace(top)
	revs, err := gitOut("-C", top, "log", "--first-parent", "--no-merges", "--format=%H %P", "-n", itoa(n))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]Change
	for _, line := range strings.Split(strings.TrimSpace(revs), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue // the root commit
		}
		c, p := f[0], f[1]
		names, err := gitOut("-C", top, "diff", "--name-status", "--no-renames", p, c)
		if err != nil {
			t.Fatal(err)
		}
		var changes []Change
		for _, nl := range strings.Split(strings.TrimSpace(names), "\n") {
			st, path, ok := strings.Cut(nl, "\t")
			if !ok {
				continue
			}
			ch := Change{Path: path, Existed: st != "A", Delete: st == "D"}
			if ch.Existed {
				if ch.Old, err = gitOut("-C", top, "show", p+":"+path); err != nil {
					t.Fatal(err)
				}
			}
			if !ch.Delete {
				if ch.New, err = gitOut("-C", top, "show", c+":"+path); err != nil {
					t.Fatal(err)
				}
			}
			if strings.ContainsRune(ch.Old+ch.New, 0) {
				continue
			}
			changes = append(changes, ch)
		}
		out = append(out, changes)
	}
	if len(out) == 0 {
		t.Fatal("no commits with a parent in the history")
	}
	return out
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	if s == "" {
		s = "0"
	}
	return s
}

// Blocks built from real commits of this repository, written out as an
// answer and parsed back, apply exactly: every block at its place, every
// file equal to the commit's. The commits' unified diffs apply with git.
func TestRealHistoryRoundTrip(t *testing.T) {
	commits := historyChanges(t, 60)
	blocks, files := 0, 0
	for ci, changes := range commits {
		var all []Block
		before := map[string]string{}
		for _, c := range changes {
			if c.Existed {
				before[c.Path] = c.Old
			}
			for _, b := range BlocksFor(c) {
				b.Index = len(all) + 1
				all = append(all, b)
			}
		}
		answer := Render(all)
		parsed, err := Parse(answer, FormatDiff)
		if err != nil {
			t.Fatalf("commit %d: the rendered answer does not parse: %v", ci, err)
		}
		if len(parsed) != len(all) {
			t.Fatalf("commit %d: %d blocks rendered, %d parsed", ci, len(all), len(parsed))
		}
		res := Apply(parsed, before)
		if len(res.Failures) > 0 {
			t.Fatalf("commit %d: blocks failed: %+v", ci, res.Failures)
		}
		got := map[string]Change{}
		for _, c := range res.Changes {
			got[c.Path] = c
		}
		for _, c := range changes {
			g := got[c.Path]
			switch {
			case c.Delete:
				if !g.Delete {
					t.Errorf("commit %d: %s not deleted", ci, c.Path)
				}
			case strings.HasSuffix(c.Old, "\n") != strings.HasSuffix(c.New, "\n") && c.Existed && c.Old != "":
				// blocks are whole lines: a final line break they cannot add or drop
			case g.New != c.New:
				t.Errorf("commit %d: %s differs from the commit after the blocks", ci, c.Path)
			}
			files++
		}
		blocks += len(all)
		if ci < 15 {
			after := gitApply(t, before, UnifiedDiff(changes))
			for _, c := range changes {
				if !c.Delete && after[c.Path] != c.New {
					t.Errorf("commit %d: %s differs from the commit after git apply", ci, c.Path)
				}
			}
		}
	}
	t.Logf("%d commits, %d files, %d blocks applied exactly", len(commits), files, blocks)
}

// A block whose added lines end like the lines it keeps becomes a hunk
// with trailing context, which git apply places by its context rather
// than at the end of the file.
func TestBlockDiffTrailingContext(t *testing.T) {
	file := "a\nb\nfi\n\nz\ny\n"
	b := Block{Path: "f", Search: "a\nb\nfi\n\n", Replace: "a\nb\nfi\n\nnew\nfi\n\n"}
	after := gitApply(t, map[string]string{"f": file}, BlockDiff(b, 1))
	if want := "a\nb\nfi\n\nnew\nfi\n\nz\ny\n"; after["f"] != want {
		t.Errorf("git apply of BlockDiff: %q, want %q", after["f"], want)
	}
}
