package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lore/config"
	"lore/internal/testenv"
)

// ask and lore status say which retrieved files the answer saw in full.
func TestAskSaysWhatItSawInFull(t *testing.T) {
	vars := append(testenv.Env(t), config.EnvContext+"=2048", config.EnvWatch+"=off")
	repo := testenv.FixtureRepo(t)
	t.Cleanup(func() { run(t, vars, repo, "lore", "stop") })
	// Too large for the pack's share of a 2,048-token context, small
	// enough for the 512 tokens a question may retrieve.
	notes := strings.Repeat("Release notes: the zeta exporter writes CSV.\n", 14)
	if err := os.WriteFile(filepath.Join(repo, "zeta-notes.txt"), []byte(notes), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, vars, repo, "ask", "--max-tokens", "2", "What does zeta-notes.txt say?")
	if code != 0 || !strings.Contains(errOut, "note: retrieved for this question: saw in full: zeta-notes.txt") {
		t.Fatalf("ask (exit %d):\n%s", code, errOut)
	}
	out, _, code := run(t, vars, repo, "lore", "status", "--verbose")
	if code != 0 || !strings.Contains(out, "last answer saw in full: zeta-notes.txt") || !strings.Contains(out, "retrieval   up to 512 tokens") {
		t.Fatalf("status (exit %d):\n%s", code, out)
	}
}
