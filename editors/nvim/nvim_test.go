// Package nvim_test runs the Neovim plugin in a real headless Neovim: the
// plugin alone (TestPluginLoads) and against a real `lore lsp` and daemon on
// the generated tiny model (TestEndToEnd). Each Neovim runs a Lua driver from
// testdata/ that writes what it saw to a JSON file; the assertions are here.
//
// The tests skip when nvim is not installed, and fail then under
// LORE_TEST_REQUIRE, as `make test` sets it (`make deps` installs Debian's
// neovim).
package nvim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/config"
	"lore/handoff/edit"
	"lore/handoff/tier/tiertest"
	"lore/internal/testenv"
)

// nvimTimeout bounds every Neovim run: the test never hangs.
const nvimTimeout = 90 * time.Second

func requireNvim(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("nvim")
	if err != nil {
		testenv.Unavailable(t, "nvim not found on PATH: install Neovim 0.7 or newer (`make deps` installs Debian's neovim) to test the Neovim plugin")
	}
	return path
}

func pluginDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// luaJSON is a Lua expression that evaluates to v.
func luaJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "]==]") {
		t.Fatalf("cannot quote %s", b)
	}
	return "vim.fn.json_decode([==[" + string(b) + "]==])"
}

// nvimRun is one headless Neovim run.
type nvimRun struct {
	home    string // XDG folders: logs land here
	output  string // stdout and stderr
	results string // the driver's JSON
}

// logs returns Neovim's output and the tail of its LSP log.
func (r *nvimRun) logs() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- nvim output:\n%s\n", r.output)
	if r.results != "" {
		fmt.Fprintf(&b, "--- driver results:\n%s\n", r.results)
	}
	logs, _ := filepath.Glob(filepath.Join(r.home, "*", "nvim", "*log*"))
	for _, p := range logs {
		body, _ := os.ReadFile(p)
		lines := strings.Split(string(body), "\n")
		if len(lines) > 80 {
			lines = lines[len(lines)-80:]
		}
		fmt.Fprintf(&b, "--- %s (last lines):\n%s\n", p, strings.Join(lines, "\n"))
	}
	return b.String()
}

// runNvim starts `nvim --headless --clean` with a generated init.lua that
// puts the plugin on the runtimepath, sets _G.lore_test = facts (plus
// out, the JSON file the driver writes) and calls setup(setup), then runs
// the driver on file. It decodes the driver's JSON into out.
func runNvim(t *testing.T, nvim string, env []string, dir string, setup, facts map[string]any, driver, file string, out any) *nvimRun {
	t.Helper()
	tmp := t.TempDir()
	r := &nvimRun{home: filepath.Join(tmp, "home")}
	outPath := filepath.Join(tmp, "out.json")
	facts["out"] = outPath
	init := strings.Join([]string{
		"vim.opt.runtimepath:prepend(" + luaJSON(t, pluginDir(t)) + ")",
		"vim.o.swapfile = false",
		"vim.lsp.set_log_level('debug')",
		"_G.lore_test = " + luaJSON(t, facts),
		"require('lore').setup(" + luaJSON(t, setup) + ")",
	}, "\n") + "\n"
	initPath := filepath.Join(tmp, "init.lua")
	if err := os.WriteFile(initPath, []byte(init), 0o644); err != nil {
		t.Fatal(err)
	}

	// Neovim's own folders are the test's; nothing of the user's is read.
	vars := []string{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "XDG_") || strings.HasPrefix(k, "NVIM") || k == "VIMINIT" || k == "MYVIMRC" {
			continue
		}
		vars = append(vars, kv)
	}
	for _, x := range []string{"CONFIG", "DATA", "STATE", "CACHE"} {
		d := filepath.Join(r.home, strings.ToLower(x))
		os.MkdirAll(d, 0o755)
		vars = append(vars, "XDG_"+x+"_HOME="+d)
	}
	vars = append(vars, "NVIM_LOG_FILE="+filepath.Join(r.home, "state", "nvim", "nvim.log"))
	os.MkdirAll(filepath.Join(r.home, "state", "nvim"), 0o755)

	ctx, cancel := context.WithTimeout(context.Background(), nvimTimeout)
	defer cancel()
	args := []string{"--headless", "--clean", "-u", initPath, "-c", "luafile " + filepath.Join(pluginDir(t), "testdata", driver)}
	if file != "" {
		args = append(args, file)
	}
	cmd := exec.CommandContext(ctx, nvim, args...)
	cmd.Dir = dir
	cmd.Env = vars
	// A file, not a pipe: a server or daemon that keeps the descriptor
	// open cannot make Wait block.
	logFile, err := os.Create(filepath.Join(tmp, "nvim.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	runErr := cmd.Run()
	logFile.Close()
	body, _ := os.ReadFile(logFile.Name())
	r.output = string(body)
	t.Logf("nvim %s ran %.1fs", driver, time.Since(start).Seconds())
	if ctx.Err() != nil {
		t.Fatalf("nvim did not finish within %v\n%s", nvimTimeout, r.logs())
	}
	if runErr != nil {
		t.Fatalf("nvim: %v\n%s", runErr, r.logs())
	}
	raw, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatalf("the driver wrote no results: %v\n%s", err, r.logs())
	}
	r.results = string(raw)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("results: %v\n%s\n%s", err, raw, r.logs())
	}
	return r
}

// TestPluginLoads checks the plugin without a server: setup's options, the
// commands, root detection, the streaming window (q and Esc close it), a
// question when the server cannot start, :checkhealth and the help tags.
func TestPluginLoads(t *testing.T) {
	nvim := requireNvim(t)
	tmp := t.TempDir()
	repo := filepath.Join(tmp, "repo")
	for _, d := range []string{".git", "sub/dir"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(repo, "sub", "dir", "file.go"), []byte("package dir\n"), 0o644)
	outside := filepath.Join(tmp, "outside")
	os.MkdirAll(outside, 0o755)
	// The help file is tagged in a copy: the source tree stays clean.
	doc := filepath.Join(tmp, "rtp", "doc")
	os.MkdirAll(doc, 0o755)
	help, err := os.ReadFile(filepath.Join(pluginDir(t), "doc", "lore.txt"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(doc, "lore.txt"), help, 0o644)

	missing := filepath.Join(tmp, "no-such-lore")
	setup := map[string]any{
		"cmd":        []string{missing, "lsp"},
		"max_tokens": 32,
		"env":        map[string]string{"LORE_MODEL": "/m.gguf"},
		"float":      map[string]any{"border": "single"},
	}
	var out struct {
		Error    string
		Commands map[string]bool
		Options  struct {
			Cmd       []string
			MaxTokens int `json:"max_tokens"`
			Hover     bool
			Border    string
			Width     float64
			Env       map[string]string
		}
		RootOfFile       string `json:"root_of_file"`
		RootOfDir        string `json:"root_of_dir"`
		RootOutside      any    `json:"root_outside"`
		Placeholder      string
		StatusLine       string `json:"status_line"`
		Window           map[string]any
		StatusMD         []string       `json:"status_markdown"`
		NoServer         map[string]any `json:"no_server"`
		Health           string
		Help             map[string]bool
		CancelledOnClose bool `json:"cancelled_on_close"`
		SurvivedStatus   bool `json:"survived_status"`
		BadOption        bool `json:"bad_option"`
		Sent             []struct {
			Question     string
			Session      string
			Plan         bool
			TextDocument struct{ URI string } `json:"textDocument"`
			Range        *lspRange
		}
	}
	r := runNvim(t, nvim, os.Environ(), tmp, setup, map[string]any{"repo": repo, "outside": outside, "doc": doc}, "unit.lua", "", &out)
	if out.Error != "" {
		t.Fatalf("driver: %s\n%s", out.Error, r.logs())
	}
	for _, c := range []string{"LoreAsk", "LorePlan", "LoreStatus"} {
		if !out.Commands[c] {
			t.Errorf(":%s is not defined", c)
		}
	}
	o := out.Options
	if strings.Join(o.Cmd, " ") != missing+" lsp" || o.MaxTokens != 32 || o.Hover || o.Border != "single" || o.Width != 0.8 || o.Env["LORE_MODEL"] != "/m.gguf" {
		t.Errorf("options after setup: %+v", o)
	}
	if out.RootOfFile != repo || out.RootOfDir != repo || out.RootOutside != nil {
		t.Errorf("roots: file %q, dir %q, outside %v; want %q, %q, nil", out.RootOfFile, out.RootOfDir, out.RootOutside, repo, repo)
	}
	if out.Placeholder != "waiting" || out.StatusLine != "prefilling (50%)" {
		t.Errorf("placeholder %q, status %q", out.Placeholder, out.StatusLine)
	}
	want := "Alpha greets\nby *name*.\n\nDone — ünï 世界"
	w := out.Window
	if w["text"] != want || w["streamed"] != want {
		t.Errorf("window text %q, streamed %q; want %q", w["text"], w["streamed"], want)
	}
	if w["relative"] != "editor" || w["filetype"] != "markdown" || w["wrap"] != true || w["modifiable"] != false || w["current"] != true || w["height"] != 4.0 {
		t.Errorf("window: %v", w)
	}
	if w["closed_by_q"] != true || w["closed_by_esc"] != true {
		t.Errorf("q or Esc did not close the window: %v", w)
	}
	if md := strings.Join(out.StatusMD, "\n"); !strings.Contains(md, "# lore status") || !strings.Contains(md, "- **state**: ready") || !strings.Contains(md, "3 of 4 tokens (75%)") || !strings.Contains(md, "3.0 MiB") {
		t.Errorf("status markdown:\n%s", md)
	}
	if out.NoServer["done"] != true || !strings.Contains(fmt.Sprint(out.NoServer["err"]), "no-such-lore") || !strings.Contains(fmt.Sprint(out.NoServer["window"]), "no-such-lore") {
		t.Errorf("a question without a server: %v", out.NoServer)
	}
	if !strings.Contains(out.Health, "lore") || !strings.Contains(out.Health, "no-such-lore") {
		t.Errorf(":checkhealth lore:\n%s", out.Health)
	}
	for tag, ok := range out.Help {
		if !ok {
			t.Errorf(":help %s failed", tag)
		}
	}
	if len(out.Help) == 0 {
		t.Error("no help tags checked")
	}
	if len(out.Sent) != 3 {
		t.Fatalf("sent %+v, want three questions", out.Sent)
	}
	newURI := (&url.URL{Scheme: "file", Path: filepath.Join(repo, "sub", "dir", "new.txt")}).String()
	for i, want := range []struct {
		question, session, rng string
	}{
		{"lines", "", "1:0-2:5"},
		{"chars", "", "1:7-1:16"}, // "code here" after "ünï 世界 " (13 bytes, 7 UTF-16 units)
		{"next step", "plan", ""},
	} {
		got := out.Sent[i]
		rng := ""
		if got.Range != nil {
			rng = fmt.Sprintf("%d:%d-%d:%d", got.Range.Start.Line, got.Range.Start.Character, got.Range.End.Line, got.Range.End.Character)
		}
		if got.Question != want.question || got.Session != want.session || got.Plan != (want.session == "plan") || rng != want.rng || got.TextDocument.URI != newURI {
			t.Errorf("question %d sent %+v (range %s), want %q session %q range %q on %s", i, got, rng, want.question, want.session, want.rng, newURI)
		}
	}
	if !out.SurvivedStatus {
		t.Error("a status window closed or cancelled the streaming answer")
	}
	if !out.CancelledOnClose {
		t.Error("closing the window while the answer streamed did not cancel the question")
	}
	if !out.BadOption {
		t.Error("setup{max_tokens = 'many'} did not fail")
	}
	if strings.Contains(r.output, "E154") {
		t.Errorf("duplicate help tags:\n%s", r.output)
	}
}

type lspRange struct {
	Start struct{ Line, Character int } `json:"start"`
	End   struct{ Line, Character int } `json:"end"`
}

type answer struct {
	ID      int
	Done    bool
	Err     any
	Updates int
	Params  struct {
		Question     string
		Session      string
		MaxTokens    int
		TextDocument *struct{ URI string } `json:"textDocument"`
		Range        *lspRange
	}
	Result *struct {
		Text            string
		GeneratedTokens int `json:"generatedTokens"`
		PromptTokens    int `json:"promptTokens"`
		CachedTokens    int `json:"cachedTokens"`
		StopReason      string
	}
	Streamed string
	Buffer   string
	Valid    bool
	Log      []struct {
		Done bool
		Text string
	}
	ClosedByQ bool `json:"closed_by_q"`
}

// check asserts what every streamed answer must satisfy.
func (a *answer) check(t *testing.T, what string, maxTokens int) {
	t.Helper()
	if !a.Done || a.Err != nil || a.Result == nil {
		t.Fatalf("%s: done %v, err %v, result %v", what, a.Done, a.Err, a.Result)
	}
	text := a.Result.Text
	if text == "" || a.Result.GeneratedTokens <= 0 || a.Result.GeneratedTokens > maxTokens {
		t.Errorf("%s: implausible result %+v", what, *a.Result)
	}
	if a.Streamed != text {
		t.Errorf("%s: the streamed chunks make %q, the result's text is %q", what, a.Streamed, text)
	}
	if a.Buffer != text {
		t.Errorf("%s: the window shows %q, the result's text is %q", what, a.Buffer, text)
	}
	if a.Updates < 2 {
		t.Errorf("%s: %d streamed updates, want more than one", what, a.Updates)
	}
}

// TestEndToEnd runs the plugin against a real `lore lsp` (built from this
// tree), which starts a real daemon on the tiny model: :LoreAsk streams into
// the float, the code action menu asks about a selection through the
// client-side lore.ask command, :LoreStatus shows the daemon's status. The
// model comes only from setup's env option.
func TestEndToEnd(t *testing.T) {
	nvim := requireNvim(t)
	bins := testenv.Binaries(t)
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	lore := filepath.Join(bins, "lore")
	model := ""
	var env []string
	for _, kv := range vars {
		if k, v, _ := strings.Cut(kv, "="); k == config.EnvModel {
			model = v
			continue
		}
		env = append(env, kv)
	}
	loreCmd := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, lore, args...)
		cmd.Dir, cmd.Env = repo, vars
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Sprintf("lore %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() { loreCmd("stop") })
	var r *nvimRun
	t.Cleanup(func() {
		if t.Failed() {
			if r != nil {
				t.Log(r.logs())
			}
			t.Logf("--- daemon log:\n%s", loreCmd("logs", "-n", "60"))
		}
	})

	const maxTokens = 16
	const question = "What does Alpha do?"
	const question2 = "Why is it written this way?"
	const title = "Ask lore about this"
	file := filepath.Join(repo, "alpha", "alpha.go")
	setup := map[string]any{
		"cmd":        []string{lore, "lsp"},
		"max_tokens": maxTokens,
		"env":        map[string]string{config.EnvModel: model},
	}
	facts := map[string]any{"question": question, "question2": question2, "action_title": title}
	var out struct {
		Error  string
		File   string
		Client struct {
			Root        string
			Count       int
			Commands    []string
			CodeActions bool `json:"code_actions"`
		}
		AskFloat    map[string]any `json:"ask_float"`
		Ask         answer
		ActionRange lspRange `json:"action_range"`
		Actions     []struct {
			Title   string
			Command *struct {
				Command   string
				Arguments []struct {
					URI      string
					Range    *lspRange
					Question string
				}
			}
		}
		ActionsErr   any `json:"actions_err"`
		Menu         []string
		InputPrompt  string `json:"input_prompt"`
		ActionAnswer answer `json:"action_answer"`
		Status       map[string]any
		StatusWindow string `json:"status_window"`
	}
	r = runNvim(t, nvim, env, repo, setup, facts, "e2e.lua", file, &out)
	if out.Error != "" {
		t.Fatalf("driver: %s", out.Error)
	}

	root, _ := filepath.EvalSymlinks(repo)
	if got, _ := filepath.EvalSymlinks(out.Client.Root); got != root || out.Client.Count != 1 {
		t.Errorf("client root %q (%d clients), want %q and one client", out.Client.Root, out.Client.Count, repo)
	}
	for _, c := range []string{"lore.ask", "lore.explain", "lore.plan", "lore.status"} {
		if !strings.Contains(strings.Join(out.Client.Commands, " "), c) {
			t.Errorf("the server does not advertise %s: %v", c, out.Client.Commands)
		}
	}
	if !out.Client.CodeActions {
		t.Error("the server does not advertise code actions")
	}
	fileURI := (&url.URL{Scheme: "file", Path: file}).String()

	// :LoreAsk
	if f := out.AskFloat; f["relative"] != "editor" || f["filetype"] != "markdown" || f["wrap"] != true {
		t.Errorf(":LoreAsk window: %v", f)
	}
	a := &out.Ask
	a.check(t, ":LoreAsk", maxTokens)
	if a.Params.Question != question || a.Params.MaxTokens != maxTokens || a.Params.TextDocument == nil || a.Params.TextDocument.URI != fileURI || a.Params.Range != nil {
		t.Errorf(":LoreAsk sent %+v", a.Params)
	}
	before := 0
	for i, u := range a.Log {
		if !u.Done {
			before++
		}
		if !strings.HasPrefix(a.Result.Text, u.Text) {
			t.Errorf("update %d shows %q, not a prefix of the answer %q", i, u.Text, a.Result.Text)
		}
	}
	if before < 2 {
		t.Errorf("%d window updates before the request completed, want more than one", before)
	}
	if !a.ClosedByQ {
		t.Error("q did not close the answer window")
	}

	// Code actions on lines 3-5.
	if out.ActionsErr != nil {
		t.Fatalf("textDocument/codeAction: %v", out.ActionsErr)
	}
	var titles []string
	found := false
	for _, act := range out.Actions {
		titles = append(titles, act.Title)
		if act.Title != title {
			continue
		}
		found = true
		if act.Command == nil || act.Command.Command != "lore.ask" || len(act.Command.Arguments) != 1 || act.Command.Arguments[0].URI != fileURI || act.Command.Arguments[0].Range == nil {
			t.Errorf("%q carries %+v", title, act.Command)
		}
	}
	if !found {
		t.Fatalf("code actions on a selection: %q, want %q among them", titles, title)
	}
	if strings.Join(out.Menu, "|") != strings.Join(titles, "|") {
		t.Errorf("the menu offered %q, the request returned %q", out.Menu, titles)
	}
	if out.InputPrompt == "" {
		t.Error("lore.ask without a question did not prompt for one")
	}
	b := &out.ActionAnswer
	b.check(t, "the code action", maxTokens)
	if b.Params.Question != question2 || b.Params.TextDocument == nil || b.Params.TextDocument.URI != fileURI || b.Params.Range == nil || b.Params.Range.Start.Line != 2 || b.Params.Range.End.Line != 4 {
		t.Errorf("the code action asked %+v (range %+v), want %q about lines 2-4 (0-based) of %s", b.Params, b.Params.Range, question2, fileURI)
	}

	// :LoreStatus
	if out.Status["state"] != "ready" || out.Status["model_path"] != model {
		t.Errorf("lore/status: state %v, model_path %v (want ready, %s: the env option)", out.Status["state"], out.Status["model_path"], model)
	}
	if n, _ := out.Status["buffers"].(float64); n < 1 {
		t.Errorf("lore/status: buffers %v, want the unsaved buffer counted", out.Status["buffers"])
	}
	if !strings.Contains(out.StatusWindow, "# lore status") || !strings.Contains(out.StatusWindow, "**state**: ready") {
		t.Errorf(":LoreStatus window:\n%s", out.StatusWindow)
	}
}

// TestLspEnable starts lore through lsp/lore.lua, as Neovim 0.11's
// vim.lsp.enable('lore') does (on an older Neovim the driver does what
// enable does with the file: root_dir's callback, start, attach), with
// setup{ autostart = false } so that nothing else starts a client. The
// plugin must adopt that client (one client, :LoreAsk answers through it),
// and :checkhealth lore must report the binary, the model and the daemon:
// none running before, ready after.
func TestLspEnable(t *testing.T) {
	nvim := requireNvim(t)
	bins := testenv.Binaries(t)
	vars := testenv.Env(t)
	repo := testenv.FixtureRepo(t)
	lore := filepath.Join(bins, "lore")
	model := ""
	var env []string
	for _, kv := range vars {
		if k, v, _ := strings.Cut(kv, "="); k == config.EnvModel {
			model = v
			continue
		}
		env = append(env, kv)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, lore, "stop")
		cmd.Dir, cmd.Env = repo, vars
		cmd.Run()
	}
	t.Cleanup(stop)
	file := filepath.Join(repo, "alpha", "alpha.go")
	setup := map[string]any{
		"cmd":        []string{lore, "lsp"},
		"max_tokens": 8,
		"env":        map[string]string{config.EnvModel: model},
		"autostart":  false,
	}
	var out struct {
		Error        string
		Enable       bool
		LspFiles     []string `json:"lsp_files"`
		Clients      int
		ClientsAfter int `json:"clients_after"`
		Root         string
		Registered   bool
		Answer       struct {
			Err  any
			Text any
		}
		HealthBefore string `json:"health_before"`
		Health       string
	}
	r := runNvim(t, nvim, env, repo, setup, map[string]any{"question": "What does Alpha do?"}, "enable.lua", file, &out)
	if out.Error != "" {
		t.Fatalf("driver: %s\n%s", out.Error, r.logs())
	}
	t.Logf("vim.lsp.enable available: %v", out.Enable)
	if len(out.LspFiles) != 1 || out.LspFiles[0] != filepath.Join(pluginDir(t), "lsp", "lore.lua") {
		t.Errorf("lsp/lore.lua on the runtimepath: %v", out.LspFiles)
	}
	root, _ := filepath.EvalSymlinks(repo)
	if got, _ := filepath.EvalSymlinks(out.Root); got != root || out.Clients != 1 || !out.Registered {
		t.Errorf("client root %q (%d clients, registered %v), want %q, one client the plugin knows", out.Root, out.Clients, out.Registered, repo)
	}
	if out.Answer.Err != nil || fmt.Sprint(out.Answer.Text) == "" || out.ClientsAfter != 1 {
		t.Errorf(":LoreAsk through the enabled client: %+v, %d clients after", out.Answer, out.ClientsAfter)
	}
	for _, want := range []string{"server: " + lore, "model: " + model, "no daemon runs for"} {
		if !strings.Contains(out.HealthBefore, want) {
			t.Errorf(":checkhealth lore before the client lacks %q:\n%s", want, out.HealthBefore)
		}
	}
	for _, want := range []string{"model: " + model, "daemon for ", ": ready, model "} {
		if !strings.Contains(out.Health, want) {
			t.Errorf(":checkhealth lore with the daemon ready lacks %q:\n%s", want, out.Health)
		}
	}
	if strings.Contains(out.Health, "ERROR") {
		t.Errorf(":checkhealth lore reports an error:\n%s", out.Health)
	}
}

// TestHealthNoModel: :checkhealth lore names the commands that get a model
// when the configured one is missing.
func TestHealthNoModel(t *testing.T) {
	nvim := requireNvim(t)
	bins := testenv.Binaries(t)
	tmp := t.TempDir()
	repo := filepath.Join(tmp, "repo")
	os.MkdirAll(filepath.Join(repo, ".git"), 0o755)
	os.WriteFile(filepath.Join(repo, "a.go"), []byte("package a\n"), 0o644)
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != config.EnvModel {
			env = append(env, kv)
		}
	}
	missing := filepath.Join(tmp, "none.gguf")
	setup := map[string]any{"cmd": []string{filepath.Join(bins, "lore"), "lsp"}, "env": map[string]string{config.EnvModel: missing}, "autostart": false}
	var out struct {
		Error  string
		Health string
	}
	r := runNvim(t, nvim, env, repo, setup, map[string]any{}, "health.lua", filepath.Join(repo, "a.go"), &out)
	if out.Error != "" {
		t.Fatalf("driver: %s\n%s", out.Error, r.logs())
	}
	for _, want := range []string{"model " + missing + " (from env LORE_MODEL) does not exist", "lore model ls --recommended", "lore model pull NAME", "no daemon runs for"} {
		if !strings.Contains(out.Health, want) {
			t.Errorf(":checkhealth lore lacks %q:\n%s", want, out.Health)
		}
	}
}

// TestLazySpec runs the lazy.nvim spec of the README the way lazy.nvim
// does: the repository's folder on the runtimepath and the spec's config
// function called with the plugin (its dir), in a Neovim that has nothing
// else of lore. The commands and lsp/lore.lua must be there.
func TestLazySpec(t *testing.T) {
	nvim := requireNvim(t)
	readme, err := os.ReadFile(filepath.Join(pluginDir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "config = function(plugin)", "end,"
	text := string(readme)
	i := strings.Index(text, begin)
	j := strings.Index(text[max(i, 0):], end)
	if i < 0 || j < 0 {
		t.Fatalf("README.md has no lazy.nvim spec with %q", begin)
	}
	fn := "function(plugin)" + text[i+len(begin):i+j] + "end"
	repoRoot := filepath.Clean(filepath.Join(pluginDir(t), "..", ".."))
	tmp := t.TempDir()
	outPath := filepath.Join(tmp, "out.json")
	init := strings.Join([]string{
		"vim.o.swapfile = false",
		"local plugin = { dir = " + luaJSON(t, repoRoot) + " }",
		"vim.opt.runtimepath:append(plugin.dir)",
		"local config = " + fn,
		"config(plugin)",
		"local out = { commands = vim.fn.exists(':LoreAsk') == 2, lsp = vim.api.nvim_get_runtime_file('lsp/lore.lua', true), module = package.loaded['lore'] ~= nil }",
		"local f = assert(io.open(" + luaJSON(t, outPath) + ", 'w')); f:write(vim.fn.json_encode(out)); f:close()",
		"vim.cmd('qa!')",
	}, "\n") + "\n"
	initPath := filepath.Join(tmp, "init.lua")
	os.WriteFile(initPath, []byte(init), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), nvimTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--clean", "-u", initPath)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+tmp, "XDG_DATA_HOME="+tmp, "XDG_STATE_HOME="+tmp)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nvim: %v\n%s\n%s", err, b, init)
	}
	var out struct {
		Commands bool
		Lsp      []string
		Module   bool
	}
	raw, err := os.ReadFile(outPath)
	if err != nil || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("results: %v %s", err, raw)
	}
	if !out.Commands || !out.Module || len(out.Lsp) != 1 || out.Lsp[0] != filepath.Join(pluginDir(t), "lsp", "lore.lua") {
		t.Errorf("after the lazy.nvim spec: %+v", out)
	}
}

// TestGenerateAppliesEdits: :LoreGenerate through a real `lore lsp` and
// `lore generate` against a loopback larger tier (the one stand-in, speaking
// the OpenAI wire format): Neovim receives workspace/applyEdit, asks, and
// its buffers hold the edits (a changed file and a new one).
func TestGenerateAppliesEdits(t *testing.T) {
	nvim := requireNvim(t)
	bins := testenv.Binaries(t)
	vars := append(testenv.Env(t), "LORE_TEST_TIER_KEY=sk-nvim-test-key-0123456789")
	repo := testenv.FixtureRepo(t)
	lore := filepath.Join(bins, "lore")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, lore, "stop")
		cmd.Dir, cmd.Env = repo, vars
		cmd.Run()
	})
	for _, kv := range vars {
		if k, v, _ := strings.Cut(kv, "="); k == config.EnvStateDir {
			t.Setenv(k, v)
		}
	}
	plan := config.PlanFile(repo, "polite")
	if err := os.MkdirAll(filepath.Dir(plan), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plan, []byte("# Plan polite\n\n## Files\n- `alpha/alpha.go` (change): greet politely\n- `alpha/doc.go` (create)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	answer := edit.Render([]edit.Block{
		{Path: "alpha/alpha.go", Search: "\treturn \"hello \" + name\n", Replace: "\treturn \"Hello, \" + name + \"!\"\n"},
		{Path: "alpha/doc.go", Replace: "// Package alpha greets.\npackage alpha\n"},
	})
	srv := tiertest.OpenAI(t, tiertest.Reply{Text: answer, Input: 400, Output: 30})
	cfg := "[tier.large]\nprovider = \"openai\"\nbase_url = \"" + srv.URL + "\"\nmodel = \"big\"\napi_key_env = \"LORE_TEST_TIER_KEY\"\n"
	os.MkdirAll(filepath.Join(repo, ".lore"), 0o755)
	if err := os.WriteFile(config.RepoConfigPath(repo), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	model := ""
	var env []string
	for _, kv := range vars {
		if k, v, _ := strings.Cut(kv, "="); k == config.EnvModel {
			model = v
			continue
		}
		env = append(env, kv)
	}
	file := filepath.Join(repo, "alpha", "alpha.go")
	setup := map[string]any{"cmd": []string{lore, "lsp"}, "env": map[string]string{config.EnvModel: model}}
	facts := map[string]any{"plan": "polite", "created": filepath.Join(repo, "alpha", "doc.go")}
	var out struct {
		Error    string
		ReplyErr any `json:"reply_err"`
		Reply    map[string]any
		Buffer   string
		Modified bool
		Created  any
		Confirm  []struct{ Msg string }
	}
	r := runNvim(t, nvim, env, repo, setup, facts, "generate.lua", file, &out)
	if out.Error != "" {
		t.Fatalf("driver: %s\n%s", out.Error, r.logs())
	}
	if out.Reply["started"] != true || out.ReplyErr != nil {
		t.Errorf("lore.generate reply %v, error %v", out.Reply, out.ReplyErr)
	}
	if len(out.Confirm) != 1 || !strings.Contains(out.Confirm[0].Msg, "alpha/alpha.go") || !strings.Contains(out.Confirm[0].Msg, "polite") {
		t.Errorf("confirmation: %+v", out.Confirm)
	}
	if !strings.Contains(out.Buffer, "return \"Hello, \" + name + \"!\"") || !strings.Contains(out.Buffer, "// Alpha greets.") {
		t.Errorf("buffer after the edit:\n%s", out.Buffer)
	}
	if s, _ := out.Created.(string); !strings.Contains(s, "package alpha") {
		t.Errorf("the new file's buffer: %v", out.Created)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests to the larger tier, want 1", n)
	}
}
