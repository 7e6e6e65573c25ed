package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// applyRepo is a repository whose two commits after the first change two
// files, one of them in two places a few unchanged lines apart (a run a
// model would elide).
func applyRepo(t *testing.T) string {
	dir, git := gitDir(t)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := `package p

import "fmt"

// Sum adds the numbers.
func Sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	fmt.Println("summing", len(xs))
	fmt.Println("done summing")
	fmt.Println("returning")
	return total
}

// Max is the largest number.
func Max(xs []int) int {
	best := xs[0]
	for _, x := range xs[1:] {
		if x > best {
			best = x
		}
	}
	return best
}
`
	b := "package p\n\n// Name is the package's name.\nconst Name = \"p\"\n\n// Version is its version.\nconst Version = 1\n"
	write("a.go", a)
	write("b.go", b)
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "first")
	a2 := strings.Replace(strings.Replace(a, "total := 0", "total := 0 // the sum", 1), "return total", "return total + 0", 1)
	write("a.go", a2)
	write("b.go", strings.Replace(b, "Version = 1", "Version = 2", 1))
	git("commit", "-qam", "second")
	write("a.go", strings.Replace(a2, "\t\tif x > best {", "\t\tif x >= best {", 1))
	git("commit", "-qam", "third")
	return dir
}

func TestBenchApply(t *testing.T) {
	rep, err := benchApply(context.Background(), applyRepo(t), 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Commits != 2 || rep.Files != 3 || rep.Blocks != 3 || rep.Unbuildable != 0 {
		t.Fatalf("report: %+v", rep)
	}
	rows := map[string]applyRow{}
	for _, r := range rep.Rows {
		rows[r.Perturbation] = r
	}
	all := func(r applyRow, lore, git string) {
		t.Helper()
		pick := func(tl applyTally, what string) int {
			switch what {
			case "correct":
				return tl.Correct
			case "refused":
				return tl.Refused
			}
			return tl.Wrong
		}
		if r.Blocks == 0 || pick(r.Lore, lore) != r.Blocks || pick(r.Git, git) != r.Blocks {
			t.Errorf("%s: %+v, want every block %s by lore and %s by git apply", r.Perturbation, r, lore, git)
		}
	}
	all(rows[pertExact], "correct", "correct")
	all(rows[pertReindent], "correct", "refused")
	all(rows[pertTrailing], "correct", "refused")
	all(rows[pertElided], "correct", "refused")
	all(rows[pertWrongFile], "refused", "refused")
	if r := rows[pertExact]; r.Lore.TextExact != r.Blocks {
		t.Errorf("exact blocks that did not leave the commit's text: %+v", r)
	}
	if rep.Targeted.Lore.Wrong != 0 || rep.Targeted.Blocks == 0 {
		t.Errorf("targeted: %+v", rep.Targeted)
	}
	var out bytes.Buffer
	rep.print(&out)
	for _, s := range []string{"2 commits, 3 modified files, 3 blocks", "reindent", "git apply --recount", "targeted"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the report lacks %q:\n%s", s, out.String())
		}
	}
}
