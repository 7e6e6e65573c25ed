package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lore/handoff/edit"
	"lore/handoff/tier/tiertest"
	"lore/internal/testenv"
)

const tierKey = "sk-cli-test-5e4d3c2b1a0f9e8d7c6b"

// TestPlanThenGenerate drives the hand-off as a user does: ask --plan
// writes a plan through the daemon, the user edits it, lore generate sends
// it to the larger tier (a loopback server speaking the OpenAI wire
// format), prints the diff, then applies it; a refused key and edits that
// never apply fail with the fix named and nothing written.
func TestPlanThenGenerate(t *testing.T) {
	vars := append(testenv.Env(t), "LORE_TEST_TIER_KEY="+tierKey)
	repo := testenv.FixtureRepo(t)
	t.Cleanup(func() { run(t, vars, repo, "lore", "stop") })

	out, errOut, code := run(t, vars, repo, "ask", "--plan", "--max-tokens", "12", "Make Alpha greet politely")
	if code != 0 {
		t.Fatalf("ask --plan: exit %d\n%s", code, errOut)
	}
	_ = out
	_, file, ok := strings.Cut(errOut, "plan saved: ")
	if !ok {
		t.Fatalf("ask --plan did not say where the plan is:\n%s", errOut)
	}
	file = strings.TrimSpace(strings.Split(file, " (session")[0])
	text, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(text), "Goal: Make Alpha greet politely") {
		t.Fatalf("plan file %s: %v\n%s", file, err, text)
	}
	name := strings.TrimSuffix(filepath.Base(file), ".md")
	// The user edits the plan (the test model's text is noise).
	edited := string(text) + "\n## Files\n- `alpha/alpha.go` (change): say Hello\n"
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	good := edit.Render([]edit.Block{{Path: "alpha/alpha.go", Search: "\treturn \"hello \" + name\n", Replace: "\treturn \"Hello, \" + name + \"!\"\n"}})
	srv := tiertest.OpenAI(t, tiertest.Reply{Text: good, Input: 900, Output: 40}, tiertest.Reply{Text: good, Input: 900, Cached: 800, Output: 40})
	cfg := "[tier.large]\nprovider = \"openai\"\nbase_url = \"" + srv.URL + "\"\nmodel = \"big\"\napi_key_env = \"LORE_TEST_TIER_KEY\"\n"
	if err := os.MkdirAll(filepath.Join(repo, ".lore"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, ".lore", "config.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	alpha := filepath.Join(repo, "alpha", "alpha.go")
	if out, _, code := run(t, vars, repo, "lore", "config", "show"); code != 0 || strings.Contains(out, tierKey) ||
		!strings.Contains(out, "tier.large.api_key_env") || !strings.Contains(out, "LORE_TEST_TIER_KEY") {
		t.Errorf("config show (exit %d):\n%s", code, out)
	}

	out, errOut, code = run(t, vars, repo, "lore", "generate", "--plan", name)
	if code != 0 || !strings.Contains(out, "+\treturn \"Hello, \" + name + \"!\"") || !strings.Contains(errOut, "nothing written") {
		t.Fatalf("generate (diff): exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(alpha); string(b) != testenv.FixtureFiles["alpha/alpha.go"] {
		t.Fatal("generate without --apply wrote alpha.go")
	}

	out, errOut, code = run(t, vars, repo, "lore", "generate", "--plan", name, "--apply", "--json")
	if code != 0 {
		t.Fatalf("generate --apply: exit %d\n%s", code, errOut)
	}
	var rep struct {
		FilesChanged  []struct{ Path, Action string } `json:"files_changed"`
		BlocksApplied int                             `json:"blocks_applied"`
		RepairRounds  int                             `json:"repair_rounds"`
		Usage         struct {
			Input  int `json:"input_tokens"`
			Cached int `json:"cached_tokens"`
			Output int `json:"output_tokens"`
		} `json:"usage"`
		Seconds   float64 `json:"seconds"`
		SentShare float64 `json:"sent_share"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(rep.FilesChanged) != 1 || rep.FilesChanged[0].Path != "alpha/alpha.go" || rep.BlocksApplied != 1 ||
		rep.Usage.Cached != 800 || rep.Usage.Output != 40 || rep.SentShare <= 0 {
		t.Errorf("report %+v", rep)
	}
	if b, _ := os.ReadFile(alpha); !strings.Contains(string(b), "Hello, ") {
		t.Errorf("alpha.go not written:\n%s", b)
	}

	out, _, code = run(t, vars, repo, "lore", "generate", "--plan", name, "--dry-run")
	if code != 0 || strings.Contains(out, tierKey) || !strings.Contains(out, "Bearer ***") || !strings.Contains(out, "Make Alpha greet politely") {
		t.Errorf("dry run (exit %d):\n%s", code, out)
	}

	for _, r := range srv.Requests() {
		if strings.Contains(string(r.Body), tierKey) {
			t.Error("the key is in a request body")
		}
	}

	// A refused key, then edits that never apply.
	srv.Push(tiertest.Reply{Status: 401, Error: "Incorrect API key provided: " + tierKey})
	_, errOut, code = run(t, vars, repo, "lore", "generate", "--plan", name)
	if code != 1 || !strings.Contains(errOut, "LORE_TEST_TIER_KEY") || strings.Contains(errOut, tierKey) {
		t.Errorf("401: exit %d\n%s", code, errOut)
	}
	bad := edit.Render([]edit.Block{{Path: "alpha/alpha.go", Search: "func Nowhere() {\n", Replace: "func Somewhere() {\n"}})
	srv.Push(tiertest.Reply{Text: bad}, tiertest.Reply{Text: bad}, tiertest.Reply{Text: bad})
	before, _ := os.ReadFile(alpha)
	_, errOut, code = run(t, vars, repo, "lore", "generate", "--plan", name, "--apply")
	if code != 1 || !strings.Contains(errOut, "block 1 for path alpha/alpha.go") || !strings.Contains(errOut, "nothing was written") {
		t.Errorf("persistent failure: exit %d\n%s", code, errOut)
	}
	if after, _ := os.ReadFile(alpha); string(after) != string(before) {
		t.Error("a failed hand-off wrote alpha.go")
	}
}
