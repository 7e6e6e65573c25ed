package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lore/config"
	"lore/internal/testenv"
)

// TestFullDiskCLI runs ask and lore status as a user does, with the state
// folder on a real, full file system (a tmpfs).
func TestFullDiskCLI(t *testing.T) {
	disk := testenv.Tmpfs(t, 96<<20)
	vars := append(testenv.Env(t), config.EnvStateDir+"="+disk, config.EnvWatch+"=off")
	repo := testenv.FixtureRepo(t)
	t.Cleanup(func() { run(t, vars, repo, "lore", "stop") })
	fill := testenv.FillDisk(t, disk)

	// A daemon that stops at start says why, although its log on the full
	// disk cannot take a word: ask used to print an empty reason.
	settings := filepath.Join(repo, ".lore", "config.toml")
	os.MkdirAll(filepath.Dir(settings), 0o755)
	if err := os.WriteFile(settings, []byte("contxt = 4096\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, vars, repo, "ask", "hello")
	if code == 0 || !strings.Contains(errOut, "the lore daemon exited") || !strings.Contains(errOut, "contxt") {
		t.Fatalf("ask with a daemon that cannot start (exit %d):\n%s", code, errOut)
	}
	os.Remove(settings)

	// On the full disk the daemon starts, keeps its cache in memory and
	// answers; ask and status say that the cache is not written.
	_, errOut, code = run(t, vars, repo, "ask", "--max-tokens", "4", "What does Alpha do?")
	if code != 0 || !strings.Contains(errOut, "note: the disk is full") {
		t.Fatalf("ask on a full disk (exit %d):\n%s", code, errOut)
	}
	out, _, code := run(t, vars, repo, "lore", "status")
	if code != 0 || !strings.Contains(out, "disk        the disk is full") || !strings.Contains(out, "kept in memory") {
		t.Fatalf("status on a full disk (exit %d):\n%s", code, out)
	}
	var st struct {
		Disk map[string]any `json:"disk"`
	}
	out, _, _ = run(t, vars, repo, "lore", "status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Disk["full"] != true || st.Disk["in_memory"] != true {
		t.Fatalf("status --json on a full disk: %v\n%s", err, out)
	}

	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	out, _, _ = run(t, vars, repo, "lore", "status", "--json")
	st.Disk = nil
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Disk["full"] != false || st.Disk["in_memory"] != nil {
		t.Fatalf("status --json once space is back: %v\n%s", err, out)
	}
	if out, _, _ := run(t, vars, repo, "lore", "status", "--verbose"); !strings.Contains(out, "disk        ") || strings.Contains(out, "is full") {
		t.Fatalf("status once space is back:\n%s", out)
	}
	if _, errOut, code := run(t, vars, repo, "ask", "--max-tokens", "4", "What does Alpha do?"); code != 0 || strings.Contains(errOut, "is full") {
		t.Fatalf("ask once space is back (exit %d):\n%s", code, errOut)
	}
}
