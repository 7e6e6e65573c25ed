package handoff_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lore/config"
	"lore/handoff"
	"lore/handoff/edit"
	"lore/handoff/tier"
	"lore/handoff/tier/tiertest"
)

const apiKey = "sk-handoff-test-9f8e7d6c5b4a39281706"

// Planted secrets (built from pieces so that this file does not read as
// holding credentials itself).
var (
	plantAWS    = "AKIA" + "Q3HZ7XW2PL5NV4KD"
	plantGitHub = "ghp_" + "k8Qz2Lm9Xv4Rt7Wn1Bc6Hy3Jd5Fs0Ga8Pe2U"
	plantStripe = "sk_live_" + "51Hx8QzLm2Vn7Rt4Wk9Pb3Jc"
	plantPEMKey = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
	plantPEM    = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + plantPEMKey + "\n" +
		"VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n" +
		"-----END RSA " + "PRIVATE KEY-----\n"
	secrets = []string{plantAWS, plantGitHub, plantStripe, plantPEMKey, apiKey}
)

const mainGo = `package main

import "fmt"

// dbHost is where the data lives.
const dbHost = "db.corp.internal.example"

func greet(name string) string {
	return "hello " + name
}

func main() {
	fmt.Println(greet("world"), dbHost)
}
`

func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// repo makes a git repository with code and planted secrets: an AWS key
// in Go code, a PEM key, a GitHub token in a script and a Stripe key in a
// tracked config file.
func repo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"main.go":          mainGo,
		"go.mod":           "module example.org/demo\n\ngo 1.22\n",
		"deploy/aws.go":    "package deploy\n\nconst accessKeyID = \"" + plantAWS + "\"\n",
		"certs/server.pem": plantPEM,
		"scripts/push.sh":  "#!/bin/sh\ncurl -H 'Authorization: token " + plantGitHub + "' https://api.github.com/\n",
		"config/app.toml":  "[billing]\nstripe_key = \"" + plantStripe + "\"\n",
		"README.md":        "# demo\n",
	}
	for p, text := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, root, "git", "init", "-q")
	run(t, root, "git", "add", "-A")
	run(t, root, "git", "commit", "-qm", "init")
	return root
}

func settings(provider, url string) *config.Settings {
	s := config.Defaults()
	s.Handoff.Provider = provider
	s.Handoff.BaseURL = url
	s.Handoff.Model = "big-model"
	s.Handoff.APIKeyEnv = "HANDOFF_TEST_KEY"
	s.Handoff.Redact = []string{`corp\.internal\.example`}
	return s
}

func getenv(name string) string {
	if name == "HANDOFF_TEST_KEY" {
		return apiKey
	}
	return ""
}

// The plan names the code, the files holding secrets, and a new file; the
// goal itself carries a pasted token.
const plan = "# Plan: greet politely\n\n## Steps\n1. Change greet in `main.go` to say \"Hello, NAME!\".\n" +
	"2. Use the deploy key from `deploy/aws.go`, the cert `certs/server.pem`, `scripts/push.sh` and `config/app.toml`.\n" +
	"3. Add `greet_test.go`.\n\nThe CI token is " + "ghp_" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn" + ".\n"

func block(path, search, replace string) string {
	return edit.Render([]edit.Block{{Path: path, Search: search, Replace: replace}})
}

var goodAnswer = "Here are the edits.\n\n" +
	block("main.go", "func greet(name string) string {\n\treturn \"hello \" + name\n}\n",
		"func greet(name string) string {\n\treturn \"Hello, \" + name + \"!\"\n}\n")

func assertClean(t *testing.T, srv *tiertest.Server) {
	t.Helper()
	for i, r := range srv.Requests() {
		for _, s := range secrets {
			if strings.Contains(string(r.Body), s) {
				t.Errorf("request %d's body holds the planted secret %q", i, s)
			}
		}
		for _, s := range []string{plantGitHub, "corp.internal.example", "Zz9Yy8Xx7Ww6"} {
			if strings.Contains(string(r.Body), s) {
				t.Errorf("request %d's body holds %q", i, s)
			}
		}
		for name, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, apiKey) && name != "Authorization" && name != "X-Api-Key" {
					t.Errorf("request %d: the key is in header %s", i, name)
				}
			}
		}
	}
}

func TestGenerateDiffThenApply(t *testing.T) {
	for _, provider := range []string{"openai", "anthropic"} {
		t.Run(provider, func(t *testing.T) {
			root := repo(t)
			var srv *tiertest.Server
			reply := tiertest.Reply{Text: goodAnswer, Input: 3000, Cached: 0, Output: 80}
			if provider == "openai" {
				srv = tiertest.OpenAI(t, reply, reply)
			} else {
				srv = tiertest.Anthropic(t, reply, reply)
			}
			o := handoff.Options{Root: root, Settings: settings(provider, srv.URL), Plan: plan, Getenv: getenv}
			rep, err := handoff.Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(filepath.Join(root, "main.go")); string(got) != mainGo {
				t.Error("without Apply the file changed")
			}
			if !strings.Contains(rep.Diff, "+\treturn \"Hello, \" + name + \"!\"") || !strings.Contains(rep.Diff, "--- a/main.go") {
				t.Errorf("diff:\n%s", rep.Diff)
			}
			if rep.BlocksApplied != 1 || rep.BlocksFailed != 0 || rep.RepairRounds != 0 || rep.Usage.Input != 3000 || rep.Usage.Output != 80 {
				t.Errorf("report %+v", rep)
			}
			if len(rep.FilesSent) != 1 || rep.FilesSent[0] != "main.go" {
				t.Errorf("files sent %v, want only main.go (the others hold secrets)", rep.FilesSent)
			}
			if len(rep.FilesWithheld) != 4 {
				t.Errorf("withheld %v, want the 4 files with secrets", rep.FilesWithheld)
			}
			if len(rep.UnknownPaths) != 1 || rep.UnknownPaths[0] != "greet_test.go" {
				t.Errorf("unknown paths %v", rep.UnknownPaths)
			}
			if rep.SentTokens <= 0 || rep.PackTokens <= 0 || rep.SentShare <= 0 {
				t.Errorf("sent %d of %d pack tokens (share %v)", rep.SentTokens, rep.PackTokens, rep.SentShare)
			}
			// The git-apply check of the diff.
			patch := filepath.Join(t.TempDir(), "p.diff")
			os.WriteFile(patch, []byte(rep.Diff), 0o644)
			run(t, root, "git", "apply", "--check", patch)

			body := string(srv.Requests()[0].Body)
			for _, want := range []string{"greet politely", "func greet(name string) string", "Repository map", "SEARCH"} {
				if !strings.Contains(body, want) {
					t.Errorf("the request lacks %q", want)
				}
			}
			if strings.Index(body, "func greet(name string)") > strings.Index(body, "greet politely") {
				t.Error("the plan must come after the files")
			}

			o.Apply = true
			rep, err = handoff.Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(root, "main.go"))
			if !rep.Applied || !strings.Contains(string(got), "\"Hello, \" + name + \"!\"") || !strings.Contains(string(got), "db.corp.internal.example") {
				t.Errorf("applied %v, main.go:\n%s", rep.Applied, got)
			}
			assertClean(t, srv)
		})
	}
}

func TestRepairRoundThenApply(t *testing.T) {
	root := repo(t)
	// The first answer's block does not match (the model misremembered the
	// text); the second, after the repair note, does. The SEARCH text
	// holds the placeholder of the redacted host, as the model saw it.
	bad := block("main.go", "func greet(n string) string {\n", "func greet(n string) string { // x\n")
	// The repair answer edits the line with the placeholder: a dry run
	// tells which it is.
	o := handoff.Options{Root: root, Settings: settings("openai", "http://127.0.0.1:9/v1"), Plan: plan, Getenv: getenv, Apply: true}
	dry := o
	dry.DryRun = true
	drep, err := handoff.Run(context.Background(), dry)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(drep.Request, `const dbHost = \"db.LORE_REDACTED_`) + len(`const dbHost = \"db.`)
	if i < len(`const dbHost = \"db.`) {
		t.Fatal("the host was not redacted in the request")
	}
	ph := drep.Request[i : i+len("LORE_REDACTED_")+12]
	good := block("main.go", "const dbHost = \"db."+ph+"\"\n", "const dbHost = \"replica.db."+ph+"\"\n")
	srv2 := tiertest.OpenAI(t, tiertest.Reply{Text: bad, Input: 10, Output: 5}, tiertest.Reply{Text: good, Input: 10, Cached: 8, Output: 5})
	o.Settings = settings("openai", srv2.URL)
	rep, err := handoff.Run(context.Background(), o)
	if err != nil {
		for _, r := range srv2.Requests() {
			t.Logf("%s", r.Body[max(0, len(r.Body)-1500):])
		}
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(root, "main.go"))
	if !strings.Contains(string(got), `const dbHost = "replica.db.corp.internal.example"`) {
		t.Errorf("main.go after repair:\n%s", got)
	}
	if rep.RepairRounds != 1 || rep.BlocksApplied != 1 || rep.Usage.Cached != 8 {
		t.Errorf("report %+v", rep)
	}
	reqs := srv2.Requests()
	if len(reqs) != 2 || !strings.Contains(string(reqs[1].Body), "Block 1 for path main.go did not apply") {
		t.Errorf("the second request lacks the repair note")
	}
	assertClean(t, srv2)
}

func TestPersistentFailureWritesNothing(t *testing.T) {
	root := repo(t)
	bad := block("main.go", "func nowhere() {\n", "func somewhere() {\n")
	r := tiertest.Reply{Text: bad}
	srv := tiertest.OpenAI(t, r, r, r)
	o := handoff.Options{Root: root, Settings: settings("openai", srv.URL), Plan: plan, Getenv: getenv, Apply: true}
	rep, err := handoff.Run(context.Background(), o)
	var fe *handoff.FailedError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "block 1 for path main.go") || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("err = %v", err)
	}
	if rep == nil || rep.RepairRounds != handoff.MaxRepairRounds || len(srv.Requests()) != 1+handoff.MaxRepairRounds {
		t.Errorf("report %+v, %d requests", rep, len(srv.Requests()))
	}
	if got, _ := os.ReadFile(filepath.Join(root, "main.go")); string(got) != mainGo {
		t.Error("a failed hand-off wrote main.go")
	}
}

func TestEditsToWithheldOrOutsideFilesRefused(t *testing.T) {
	root := repo(t)
	answer := block("config/app.toml", "[billing]\n", "[billing2]\n") + "\n" + block("../escape.go", "", "package x\n")
	r := tiertest.Reply{Text: answer}
	srv := tiertest.OpenAI(t, r, r, r)
	o := handoff.Options{Root: root, Settings: settings("openai", srv.URL), Plan: plan, Getenv: getenv, Apply: true}
	_, err := handoff.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "withheld") || !strings.Contains(err.Error(), "escape.go") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "config/app.toml")); !strings.Contains(string(got), plantStripe) {
		t.Error("the secret config file was changed")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "escape.go")); err == nil {
		t.Error("a file outside the repository was written")
	}
	assertClean(t, srv)
}

func TestCancelMidStreamWritesNothing(t *testing.T) {
	root := repo(t)
	hold := make(chan struct{})
	srv := tiertest.Anthropic(t, tiertest.Reply{Text: goodAnswer, Hold: hold})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-hold; cancel() }()
	o := handoff.Options{Root: root, Settings: settings("anthropic", srv.URL), Plan: plan, Getenv: getenv, Apply: true}
	_, err := handoff.Run(ctx, o)
	var te *tier.Error
	if !errors.As(err, &te) || te.Kind != tier.ErrCanceled {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "main.go")); string(got) != mainGo {
		t.Error("a cancelled hand-off wrote main.go")
	}
}

func TestCheckFailureTriggersRepair(t *testing.T) {
	root := repo(t)
	// Uncommitted work must reach the scratch worktree too.
	if err := os.WriteFile(filepath.Join(root, "NOTES.txt"), []byte("wip\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fix := block("main.go", "func main() {\n", "// Polite is checked for.\nvar Polite = true\n\nfunc main() {\n")
	srv := tiertest.OpenAI(t, tiertest.Reply{Text: goodAnswer}, tiertest.Reply{Text: fix})
	s := settings("openai", srv.URL)
	s.Handoff.Check = "test -f NOTES.txt && grep -q Polite main.go || { echo 'main.go: Polite is missing' >&2; exit 3; }"
	o := handoff.Options{Root: root, Settings: s, Plan: plan, Getenv: getenv, Apply: true}
	rep, err := handoff.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || !strings.Contains(string(reqs[1].Body), "Polite is missing") || !strings.Contains(string(reqs[1].Body), "exit 3") {
		t.Fatalf("%d requests; the second must carry the check's failure", len(reqs))
	}
	got, _ := os.ReadFile(filepath.Join(root, "main.go"))
	if !rep.Check.Passed || !strings.Contains(string(got), "var Polite = true") || !strings.Contains(string(got), "Hello, ") {
		t.Errorf("check %+v; main.go:\n%s", rep.Check, got)
	}
	out, _ := exec.Command("git", "-C", root, "worktree", "list").Output()
	if strings.Count(string(out), "\n") != 1 {
		t.Errorf("scratch worktree left behind:\n%s", out)
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	root := repo(t)
	srv := tiertest.Anthropic(t)
	o := handoff.Options{Root: root, Settings: settings("anthropic", srv.URL), Plan: plan, Getenv: getenv, DryRun: true}
	rep, err := handoff.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) != 0 {
		t.Error("a dry run sent a request")
	}
	for _, s := range secrets {
		if strings.Contains(rep.Request, s) {
			t.Errorf("the dry run shows %q", s)
		}
	}
	if !strings.Contains(rep.Request, "***") || !strings.Contains(rep.Request, "cache_control") || !strings.Contains(rep.Request, "greet politely") {
		t.Errorf("dry run:\n%s", rep.Request)
	}
}

func TestNoBlocksAndContextLength(t *testing.T) {
	root := repo(t)
	prose := tiertest.Reply{Text: "I would change greet to be polite."}
	srv := tiertest.OpenAI(t, prose, prose, prose)
	o := handoff.Options{Root: root, Settings: settings("openai", srv.URL), Plan: plan, Getenv: getenv, Apply: true}
	_, err := handoff.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "no edit blocks") || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("an answer without blocks: %v", err)
	}
	if len(srv.Requests()) != 1+handoff.MaxRepairRounds || !strings.Contains(string(srv.Requests()[1].Body), "could not be used") {
		t.Errorf("the answer without blocks was not sent back for repair")
	}

	srv = tiertest.OpenAI(t, tiertest.Reply{Status: 400, Error: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9100 tokens."})
	o.Settings = settings("openai", srv.URL)
	_, err = handoff.Run(context.Background(), o)
	var te *tier.Error
	if !errors.As(err, &te) || te.Kind != tier.ErrContextLength || !strings.Contains(err.Error(), "main.go (~") ||
		!strings.Contains(err.Error(), "Drop files from the plan") || !strings.Contains(err.Error(), "9100 tokens") {
		t.Errorf("context length: %v", err)
	}
}

func TestApplyRefusesFileChangedDuringGeneration(t *testing.T) {
	root := repo(t)
	main := filepath.Join(root, "main.go")
	srv := tiertest.OpenAI(t, tiertest.Reply{Text: goodAnswer, Before: func() {
		os.WriteFile(main, []byte(mainGo+"// edited meanwhile\n"), 0o644)
	}})
	o := handoff.Options{Root: root, Settings: settings("openai", srv.URL), Plan: plan, Getenv: getenv, Apply: true}
	_, err := handoff.Run(context.Background(), o)
	if !errors.Is(err, edit.ErrChanged) || !strings.Contains(err.Error(), "rerun lore generate") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(main); string(got) != mainGo+"// edited meanwhile\n" {
		t.Errorf("main.go was overwritten:\n%s", got)
	}
}
