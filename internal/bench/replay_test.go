package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lore/ingest/layout"
)

// historyRepo makes a repository with files of several sizes and commits that
// each edit a few files, hot ones more often, like real histories do.
func historyRepo(t *testing.T, files, commits int) string {
	t.Helper()
	dir, git := gitDir(t)
	write := func(i, version int) {
		body := fmt.Sprintf("package p\n\n// file %d version %d\n", i, version) + strings.Repeat(fmt.Sprintf("var v%d_%d = %d\n", i, version, i), 20+i*3)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.go", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	for i := 0; i < files; i++ {
		write(i, 0)
	}
	git("add", "-A")
	git("commit", "-qm", "initial")
	rng := rand.New(rand.NewPCG(1, 2))
	for c := 1; c <= commits; c++ {
		for k := 0; k < 1+rng.IntN(2); k++ {
			// A few hot files take most of the edits.
			i := rng.IntN(files)
			if rng.IntN(4) > 0 {
				i = rng.IntN(4)
			}
			write(i, c)
		}
		if c%15 == 0 {
			os.Remove(filepath.Join(dir, fmt.Sprintf("f%03d.go", files-1-c/15)))
		}
		git("add", "-A")
		git("commit", "-qm", fmt.Sprint("change ", c))
	}
	return dir
}

func TestReplayFreshness(t *testing.T) {
	dir := historyRepo(t, 60, 45)
	rep, err := replayFreshness(context.Background(), dir, freshnessOptions{Commits: 40})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Commits != 40 || rep.PackTokens == 0 || rep.ChangedTokens == 0 || len(rep.Results) != 3 {
		t.Fatalf("report %+v", rep)
	}
	lore, alpha, count := rep.Results[0], rep.Results[1], rep.Results[2]
	if lore.Policy != "lore" || alpha.Policy != "alphabetical" || count.Policy != "repomix-change-count" {
		t.Fatalf("policies %v %v %v", lore.Policy, alpha.Policy, count.Policy)
	}
	// Appending to the overlay costs exactly the changed files.
	if lore.ForegroundMedian != 1 {
		t.Errorf("lore foreground median %.2f, want 1", lore.ForegroundMedian)
	}
	if lore.MaxStaleFraction > layout.DefaultPolicy.StaleHard {
		t.Errorf("stale text reached %.1f%%", 100*lore.MaxStaleFraction)
	}
	// Exact prefixes never hold stale text and pay at least the change.
	for _, r := range []freshnessResult{alpha, count} {
		if r.MaxStaleFraction != 0 || r.ForegroundMedian < 1 || r.TotalRatio != r.ForegroundRatio {
			t.Errorf("%s: %+v", r.Policy, r)
		}
	}
	if lore.TotalRatio >= alpha.TotalRatio || lore.TotalRatio >= count.TotalRatio {
		t.Errorf("lore total %.2fx is not below the baselines (%.2fx, %.2fx)", lore.TotalRatio, alpha.TotalRatio, count.TotalRatio)
	}
}

func TestReplayFreshnessErrors(t *testing.T) {
	if _, err := replayFreshness(context.Background(), t.TempDir(), freshnessOptions{}); err == nil || !strings.Contains(err.Error(), "neither a git work tree nor a bare repository") {
		t.Fatalf("plain folder: %v", err)
	}
	dir := historyRepo(t, 3, 0)
	if _, err := replayFreshness(context.Background(), dir, freshnessOptions{}); err == nil || !strings.Contains(err.Error(), "at least two commits") {
		t.Fatalf("one commit: %v", err)
	}
}

// gitDir makes an empty folder for a test repository and a function that
// runs git in it with a fixed identity and no user configuration.
func gitDir(t *testing.T) (string, func(args ...string)) {
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
	return dir, git
}
