package daemon_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lore/api"
)

func (e *env) write(name, body string) {
	e.t.Helper()
	p := filepath.Join(e.repo, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func fileReduced(files []api.DiffFile, path string) (string, bool) {
	for _, f := range files {
		if f.Path == path {
			return f.Reduced, true
		}
	}
	return "", false
}

// The summarize and commit/draft methods read the diffs from git: the
// working tree, the staged changes, a commit, a range; lock files go in by
// name only; drafts have a subject of at most 72 characters.
func TestSummariesAndDrafts(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	d.ready(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	res, err := d.client.Summarize(ctx, api.SummarizeParams{}, nil, nil)
	if err != nil || !res.NoChanges || res.GeneratedTokens != 0 {
		t.Fatalf("summary of a clean tree: %+v, %v", res, err)
	}
	dr, err := d.client.DraftCommit(ctx, api.DraftParams{}, nil, nil)
	if err != nil || !dr.NoChanges || dr.Message != "" {
		t.Fatalf("draft with nothing staged: %+v, %v", dr, err)
	}

	e.write("beta/beta.go", "package beta\n\n// Beta subtracts now.\nfunc Beta(a, b int) int {\n\treturn a - b\n}\n")
	e.write("package-lock.json", "{\"lockfileVersion\": 3, \"secretsauce\": \""+strings.Repeat("x", 500)+"\"}\n")
	res, err = d.client.Summarize(ctx, api.SummarizeParams{MaxTokens: 8}, nil, nil)
	if err != nil || res.NoChanges || res.GeneratedTokens == 0 || res.Range != "HEAD" {
		t.Fatalf("summary of the working tree: %+v, %v", res, err)
	}
	if _, ok := fileReduced(res.Files, "beta/beta.go"); !ok || len(res.Files) != 1 {
		t.Errorf("the working tree's summary read %+v, want beta/beta.go only (the lock file is untracked)", res.Files)
	}

	e.git("add", "beta/beta.go", "package-lock.json")
	var streamed strings.Builder
	dr, err = d.client.DraftCommit(ctx, api.DraftParams{MaxTokens: 24}, func(s string) { streamed.WriteString(s) }, nil)
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeNoText {
		t.Fatalf("the tiny model wrote no draft: %v", err)
	}
	if err != nil {
		t.Fatalf("draft: %v", err)
	}
	if dr.Subject == "" || utf8.RuneCountInString(dr.Subject) > api.MaxSubjectChars || !strings.HasPrefix(dr.Message, dr.Subject+"\n") || streamed.String() != dr.Text {
		t.Errorf("draft: %+v (streamed %q)", dr, streamed.String())
	}
	if r, _ := fileReduced(dr.Files, "package-lock.json"); !strings.HasPrefix(r, "by name only: generated") {
		t.Errorf("the lock file went in as %q, want by name only: %+v", r, dr.Files)
	}
	if r, ok := fileReduced(dr.Files, "beta/beta.go"); !ok || r != "" {
		t.Errorf("beta/beta.go went in as %q (listed: %v), want whole", r, ok)
	}
	dr, err = d.client.DraftCommit(ctx, api.DraftParams{MaxTokens: 24, Style: api.StyleConventional}, nil, nil)
	if err != nil {
		t.Fatalf("conventional draft: %v", err)
	}
	if !regexp.MustCompile(`^[a-z]+(\([^()]*\))?!?: \S`).MatchString(dr.Subject) || utf8.RuneCountInString(dr.Subject) > api.MaxSubjectChars {
		t.Errorf("conventional draft's subject %q", dr.Subject)
	}
	if _, err := d.client.DraftCommit(ctx, api.DraftParams{Style: "haiku"}, nil, nil); err == nil || !strings.Contains(err.Error(), "conventional") {
		t.Errorf("unknown style: %v", err)
	}

	e.git("commit", "-qm", "beta subtracts")
	for _, rng := range []string{"HEAD", "HEAD~1..HEAD", "HEAD~1...HEAD"} {
		res, err = d.client.Summarize(ctx, api.SummarizeParams{Range: rng, MaxTokens: 8}, nil, nil)
		if err != nil || res.GeneratedTokens == 0 {
			t.Fatalf("summary of %s: %+v, %v", rng, res, err)
		}
		if _, ok := fileReduced(res.Files, "beta/beta.go"); !ok || len(res.Files) != 2 {
			t.Errorf("summary of %s read %+v", rng, res.Files)
		}
	}
	// A...B is what B has since it forked from A; A..B is the trees' diff.
	e.git("branch", "other", "HEAD~1")
	e.git("checkout", "-q", "other")
	e.write("gamma/gamma.go", "package gamma\n")
	e.git("commit", "-qam", "gamma emptied")
	e.git("checkout", "-q", "-")
	for rng, want := range map[string]int{"other...HEAD": 2, "other..HEAD": 3} {
		res, err = d.client.Summarize(ctx, api.SummarizeParams{Range: rng, MaxTokens: 4}, nil, nil)
		if err != nil || len(res.Files) != want {
			t.Errorf("summary of %s: %d files, want %d: %+v, %v", rng, len(res.Files), want, res, err)
		}
	}
	// The root commit has no parent: it is summarized against nothing.
	root := strings.TrimSpace(gitOut(t, e.repo, "rev-list", "--max-parents=0", "HEAD"))
	if res, err = d.client.Summarize(ctx, api.SummarizeParams{Range: root, MaxTokens: 4}, nil, nil); err != nil || len(res.Files) < 5 {
		t.Errorf("summary of the root commit: %+v, %v", res, err)
	}
	if res, err = d.client.Summarize(ctx, api.SummarizeParams{Range: "HEAD..HEAD"}, nil, nil); err != nil || !res.NoChanges {
		t.Errorf("summary of an empty range: %+v, %v", res, err)
	}
	for _, bad := range []string{"--output=/tmp/x", "nosuchbranch", "..HEAD", "HEAD\nx"} {
		if _, err := d.client.Summarize(ctx, api.SummarizeParams{Range: bad}, nil, nil); !errors.As(err, &ae) || ae.Code != -32602 {
			t.Errorf("range %q: %v, want invalid params", bad, err)
		}
	}
}
