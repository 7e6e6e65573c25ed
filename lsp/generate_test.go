package lsp_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/config"
	"lore/handoff/edit"
	"lore/handoff/tier/tiertest"
	"lore/internal/testenv"
	"lore/lsp"
)

// TestPlanAndGenerateCommands: lore.plan saves the daemon's plan as the
// Markdown file lore.generate reads; lore.generate runs `lore generate`
// against the larger tier (a loopback server speaking the Anthropic wire
// format) and sends the edits as one workspace/applyEdit; an open buffer
// that differs from what the edits were made from is refused.
func TestPlanAndGenerateCommands(t *testing.T) {
	setenv(t)
	t.Setenv("LORE_TEST_TIER_KEY", "sk-ant-lsp-test-key")
	bin := testenv.Binaries(t)
	repo := testenv.FixtureRepo(t)
	t.Cleanup(func() { stopDaemon(t, bin, repo) })
	e := startEditor(t, lsp.Options{LoreBinary: filepath.Join(bin, "lore")})
	// An editor that takes change annotations (as VS Code): the edits ask
	// for a confirmation, which VS Code shows as its diff preview.
	params := eglotParams(repo, map[string]any{"maxTokens": 8})
	params["capabilities"] = map[string]any{"workspace": map[string]any{"configuration": false,
		"workspaceEdit": map[string]any{"documentChanges": true, "changeAnnotationSupport": map[string]any{}}}}
	if err := e.call("initialize", params, nil); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	e.notify("initialized", map[string]any{})
	alpha := filepath.Join(repo, "alpha", "alpha.go")

	var started lsp.CommandStarted
	if err := e.call("workspace/executeCommand", map[string]any{
		"command":   lsp.CommandPlan,
		"arguments": []any{lsp.CommandArgs{URI: uri(alpha), Range: ptr(rng(3, 0, 3, 0)), Question: "Greet politely", Session: "polite"}},
	}, &started); err != nil || !started.Started {
		t.Fatalf("lore.plan: %v %+v", err, started)
	}
	waitLong(t, "the plan to be saved", func() bool { return e.message("plan saved") != "" || e.message("failed") != "" },
		func() string { return fmt.Sprintf("messages %q; daemon status %+v", e.messages(), e.status()) })
	file := config.PlanFile(repo, "polite")
	text, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(text), "Goal: Greet politely") || !strings.Contains(e.message("plan saved"), file) {
		t.Fatalf("plan file %s (%v):\n%s", file, err, text)
	}
	if err := os.WriteFile(file, append(text, "\n## Files\n- `alpha/alpha.go`: say Hello\n"...), 0o600); err != nil {
		t.Fatal(err)
	}

	good := edit.Render([]edit.Block{{Path: "alpha/alpha.go", Search: "\treturn \"hello \" + name\n", Replace: "\treturn \"Hello, \" + name + \"!\"\n"},
		{Path: "alpha/doc.go", Replace: "// Package alpha greets.\npackage alpha\n"}})
	srv := tiertest.Anthropic(t, tiertest.Reply{Text: good, Input: 500, Output: 30}, tiertest.Reply{Text: good, Input: 500, Cached: 450, Output: 30})
	cfg := "[tier.large]\nprovider = \"anthropic\"\nbase_url = \"" + srv.URL + "\"\nmodel = \"big\"\napi_key_env = \"LORE_TEST_TIER_KEY\"\n"
	os.MkdirAll(filepath.Join(repo, ".lore"), 0o755)
	if err := os.WriteFile(config.RepoConfigPath(repo), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	// With a larger tier configured and a plan saved, a fourth code action
	// runs lore.generate on the newest plan.
	var actions []struct {
		Title   string
		Command struct {
			Command   string
			Arguments []lsp.CommandArgs
		}
	}
	if err := e.call("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": uri(alpha)},
		"range": rng(3, 0, 3, 0), "context": map[string]any{"diagnostics": []any{}}}, &actions); err != nil {
		t.Fatal(err)
	}
	if n := len(actions); n != 4 || actions[3].Command.Command != lsp.CommandGenerate || actions[3].Command.Arguments[0].Plan != "polite" {
		t.Errorf("code actions: %+v", actions)
	}

	if err := e.call("workspace/executeCommand", map[string]any{
		"command": lsp.CommandGenerate, "arguments": []any{lsp.CommandArgs{Plan: "polite"}},
	}, &started); err != nil || !started.Started || started.Command != lsp.CommandGenerate {
		t.Fatalf("lore.generate: %v %+v", err, started)
	}
	waitLong(t, "lore.generate to end", func() bool { return e.message("lore.generate:") != "" || e.message("lore.generate failed") != "" })
	if msg := e.message("lore.generate:") + e.message("lore.generate failed"); !strings.Contains(msg, "applied 2 blocks") {
		t.Fatalf("lore.generate: %q", msg)
	}
	reqs := e.requests("workspace/applyEdit")
	if len(reqs) != 1 {
		t.Fatalf("%d applyEdit requests", len(reqs))
	}
	var ae struct {
		Label string `json:"label"`
		Edit  struct {
			DocumentChanges []map[string]json.RawMessage `json:"documentChanges"`
		} `json:"edit"`
	}
	if err := json.Unmarshal(reqs[0], &ae); err != nil {
		t.Fatal(err)
	}
	body := string(reqs[0])
	if len(ae.Edit.DocumentChanges) != 3 || !strings.Contains(body, `"kind":"create"`) || !strings.Contains(body, uri(filepath.Join(repo, "alpha", "doc.go"))) ||
		!strings.Contains(body, `return \"Hello, \" + name + \"!\"`) || !strings.Contains(ae.Label, "polite") ||
		!strings.Contains(body, `"needsConfirmation":true`) || strings.Count(body, `"annotationId":"lore.generate"`) != 3 {
		t.Errorf("applyEdit: %s", body)
	}
	// The server itself wrote nothing: applying is the editor's.
	if b, _ := os.ReadFile(alpha); string(b) != testenv.FixtureFiles["alpha/alpha.go"] {
		t.Error("the server wrote alpha.go")
	}

	// An open buffer with other text than the edits were made from.
	e.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri(alpha), "languageId": "go", "version": 3,
		"text": testenv.FixtureFiles["alpha/alpha.go"] + "// unsaved\n"}})
	skip := len(e.messages())
	if err := e.call("workspace/executeCommand", map[string]any{
		"command": lsp.CommandGenerate, "arguments": []any{lsp.CommandArgs{Plan: "polite"}},
	}, &started); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "the second lore.generate to end", func() bool { return len(e.messages()) > skip && e.message("changed since") != "" })
	if n := len(e.requests("workspace/applyEdit")); n != 1 {
		t.Errorf("a refused edit was sent (%d applyEdit requests)", n)
	}
	var gerr struct{ Code int }
	if err := e.call("workspace/executeCommand", map[string]any{
		"command": lsp.CommandGenerate, "arguments": []any{lsp.CommandArgs{Plan: "no-such-plan"}},
	}, &gerr); err == nil || !strings.Contains(err.Error(), "no plan called") {
		t.Errorf("unknown plan: %v", err)
	}

	// lore/ask with plan (what Neovim's :LorePlan sends) does the same and
	// answers with the plan document.
	var planned lsp.AskResult
	if err := e.call(lsp.MethodAsk, lsp.AskParams{Question: "Greet in French", Session: "french", Plan: true, MaxTokens: 8}, &planned); err != nil {
		t.Fatalf("lore/ask with plan: %v", err)
	}
	if text, err := os.ReadFile(config.PlanFile(repo, "french")); err != nil || !strings.Contains(string(text), "Goal: Greet in French") || string(text) != planned.Text {
		t.Errorf("lore/ask with plan: the plan file (%v):\n%s\nthe answer:\n%s", err, text, planned.Text)
	}

	e.exit(0, true)
}

// waitLong waits for a daemon's cold start or a hand-off: minutes on a
// loaded machine, where waitFor's seconds are for the server alone.
func waitLong(t *testing.T, what string, ok func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			for _, f := range state {
				t.Log(f())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
