package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// isolate points the user config folder at a temp dir and clears the
// environment variables Load reads.
func isolate(t *testing.T) (userFile, repo string) {
	t.Helper()
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	for _, k := range keyDefs {
		if k.env != "" {
			t.Setenv(k.env, "")
		}
	}
	repo = t.TempDir()
	return filepath.Join(xdg, "lore", "config.toml"), repo
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDefaults(t *testing.T) {
	isolate(t)
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if s.KVCacheType != "f16" || s.MaxFileSize != 1<<20 || s.OverlayMax != 0.04 || s.Model != DefaultModelPath() || s.IdleShutdown != 30*time.Minute {
		t.Fatalf("unexpected defaults: %+v", s)
	}
	for _, v := range s.Values() {
		if v.Source != SourceDefault {
			t.Errorf("%s: source %q, want default", v.Key, v.Source)
		}
	}
	if len(s.Values()) != len(Keys()) {
		t.Fatalf("Values has %d entries, want %d", len(s.Values()), len(Keys()))
	}
}

func TestPrecedence(t *testing.T) {
	user, repo := isolate(t)
	write(t, user, `# user settings
context = 4096
threads = 3
gpu_layers = 7
kv_cache_type = "q8_0"
idle_shutdown = "30m"
model = "models/user.gguf"
`)
	rf := RepoConfigPath(repo)
	write(t, rf, `threads = 5
gpu_layers = 9
snapshot_budget = "4GiB"
exclude = ["*.log", "build/"]
model = "/abs/repo.gguf"
`)
	t.Setenv(EnvGPULayers, "11")

	s, err := Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		key    string
		got    any
		want   any
		source string
	}{
		{"context", s.Context, 4096, "user file " + user + ":2"},
		{"threads", s.Threads, 5, "repo file " + rf + ":1"},
		{"gpu_layers", s.GPULayers, 11, "env " + EnvGPULayers},
		{"kv_cache_type", s.KVCacheType, "q8_0", "user file " + user + ":5"},
		{"idle_shutdown", s.IdleShutdown, 30 * time.Minute, "user file " + user + ":6"},
		{"snapshot_budget", s.SnapshotBudget, int64(4 << 30), "repo file " + rf + ":3"},
		{"model", s.Model, "/abs/repo.gguf", "repo file " + rf + ":5"},
		{"warm_max", s.WarmMax, 0.15, "default"},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("%s = %v, want %v", w.key, w.got, w.want)
		}
		if got := s.Source(w.key); got != w.source {
			t.Errorf("%s source %q, want %q", w.key, got, w.source)
		}
	}
	if strings.Join(s.Exclude, "|") != "*.log|build/" {
		t.Errorf("exclude = %q", s.Exclude)
	}

	if err := s.SetFlag("ctx", "2048"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFlag("gpu_layers", "1"); err != nil {
		t.Fatal(err)
	}
	if s.Context != 2048 || s.Source("context") != "flag --ctx" || s.GPULayers != 1 || s.Source("gpu_layers") != "flag --gpu-layers" {
		t.Errorf("flags not applied: context %d (%s), gpu_layers %d (%s)", s.Context, s.Source("context"), s.GPULayers, s.Source("gpu_layers"))
	}
	if err := s.SetFlag("ctx", "-1"); err == nil || !strings.Contains(err.Error(), "flag --ctx") {
		t.Errorf("SetFlag(ctx, -1) = %v, want an error naming the flag", err)
	}
	if err := s.SetFlag("nope", "1"); err == nil {
		t.Error("SetFlag of an unknown setting succeeded")
	}
}

func TestRelativeModelPath(t *testing.T) {
	user, repo := isolate(t)
	write(t, user, `model = "m/user.gguf"`+"\n")
	s, err := Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(user), "m", "user.gguf"); s.Model != want {
		t.Errorf("user model = %q, want %q", s.Model, want)
	}
	write(t, RepoConfigPath(repo), `model = "m/repo.gguf"`+"\n")
	if s, err = Load(repo); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(repo, "m", "repo.gguf"); s.Model != want {
		t.Errorf("repo model = %q, want %q", s.Model, want)
	}
}

func TestFileErrors(t *testing.T) {
	cases := []struct {
		name, body string
		line       int
		want       []string
	}{
		{"unknown key", "context = 1\n\ncontxt = 2\n", 3, []string{"contxt", "unknown key", "valid keys", "context", "max_file_size"}},
		{"unknown table", "threads = 1\n[gpu]\nctx = 5\n", 2, []string{"gpu", "unknown key"}},
		{"unknown dotted", "engine.ctx = 5\n", 1, []string{"engine.ctx", "unknown key"}},
		{"negative context", "threads = 2\ncontext = -5\n", 2, []string{"context", "-5 is negative", ">= 0"}},
		{"wrong type", "context = \"big\"\n", 1, []string{"context", `"big" is a string`, "integer"}},
		{"fraction", "overlay_max = 1.5\n", 1, []string{"overlay_max", "1.5 is out of range", "between 0 and 1"}},
		{"negative fraction", "stale_max = -0.1\n", 1, []string{"stale_max", "out of range"}},
		{"duration", "idle_shutdown = \"30 minutes\"\n", 1, []string{"idle_shutdown", "not a duration", `"30m"`}},
		{"negative duration", "idle_shutdown = \"-5m\"\n", 1, []string{"idle_shutdown", "negative"}},
		{"size", "max_file_size = \"1 MiBs\"\n", 1, []string{"max_file_size", "unknown unit", "GiB"}},
		{"size word", "snapshot_budget = \"lots\"\n", 1, []string{"snapshot_budget", "not a size"}},
		{"negative size", "max_file_size = -1\n", 1, []string{"max_file_size", "negative"}},
		{"enum", "\n\nkv_cache_type = \"q5_1\"\n", 3, []string{"kv_cache_type", `"q5_1"`, `"f16", "q8_0", "q4_0"`}},
		{"bool", "flash_attention = \"yes\"\n", 1, []string{"flash_attention", "true or false"}},
		{"list", "exclude = [\"a\", 3]\n", 1, []string{"exclude", "element 3", "array of strings"}},
		{"syntax", "context = \n", 1, []string{"config.toml:1:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, repo := isolate(t)
			rf := RepoConfigPath(repo)
			write(t, rf, c.body)
			_, err := Load(repo)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			msg := err.Error()
			if loc := rf + ":" + strconv.Itoa(c.line) + ":"; !strings.HasPrefix(msg, loc) {
				t.Errorf("error %q does not start with %q", msg, loc)
			}
			t.Log(msg)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestUserFileErrorNamesUserFile(t *testing.T) {
	user, _ := isolate(t)
	write(t, user, "threads = 1\nbogus = true\n")
	_, err := Load("")
	if err == nil || !strings.HasPrefix(err.Error(), user+":2: bogus") {
		t.Fatalf("error %v, want one at %s:2 naming bogus", err, user)
	}
}

func TestEnvErrors(t *testing.T) {
	isolate(t)
	t.Setenv(EnvContext, "lots")
	_, err := Load("")
	if err == nil || !strings.Contains(err.Error(), EnvContext) || !strings.Contains(err.Error(), "not an integer") {
		t.Fatalf("error %v, want one naming %s", err, EnvContext)
	}
	t.Setenv(EnvContext, "-3")
	if _, err := Load(""); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("error %v, want negative", err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "never": 0, "30m": 30 * time.Minute, "1h30m": 90 * time.Minute} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"30", "soon", "-1s"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
		}
	}
}

func TestIdleShutdownZeroInteger(t *testing.T) {
	_, repo := isolate(t)
	write(t, RepoConfigPath(repo), "idle_shutdown = 0\nflash_attention = true\nmoe_cpu_experts = true\nwarm_max = 1\n")
	s, err := Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	if s.IdleShutdown != 0 || !s.FlashAttention || !s.MoECPUExperts || s.WarmMax != 1 {
		t.Fatalf("got %+v", s)
	}
}

func TestFlagKey(t *testing.T) {
	for flag, key := range map[string]string{"ctx": "context", "--llama-lib": "llama_lib", "flash-attention": "flash_attention", "repo": ""} {
		if got := FlagKey(flag); got != key {
			t.Errorf("FlagKey(%q) = %q, want %q", flag, got, key)
		}
	}
}

func TestHandoffSettingsTable(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	root := filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(root, ".lore"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := "check = \"go build ./...\"\n\n[tier.large]\nprovider = \"anthropic\"\nmodel = \"claude-x\"\nmax_tokens = 2000\ntimeout = \"90s\"\nedit_format = \"whole\"\nredact = [\"corp\\\\.internal\"]\n"
	if err := os.WriteFile(RepoConfigPath(root), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handoff
	if h.Provider != "anthropic" || h.Model != "claude-x" || h.MaxTokens != 2000 || h.Timeout != 90*time.Second ||
		h.EditFormat != "whole" || h.Check != "go build ./..." || len(h.Redact) != 1 || h.KeyEnv() != "ANTHROPIC_API_KEY" {
		t.Fatalf("handoff settings %+v", h)
	}
	if src := s.Source("tier.large.model"); !strings.HasSuffix(src, "config.toml:5") {
		t.Errorf("source of tier.large.model = %q, want line 5", src)
	}
	if err := s.ValidateHandoff(); err != nil {
		t.Error(err)
	}
	if err := os.WriteFile(RepoConfigPath(root), []byte("[tier.large]\nmodle = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(root); err == nil || !strings.Contains(err.Error(), "tier.large.modle") {
		t.Errorf("misspelt key: err = %v, want one naming tier.large.modle", err)
	}
	if err := os.WriteFile(RepoConfigPath(root), []byte("[tier.large]\nprovider = \"gemini\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(root); err == nil || !strings.Contains(err.Error(), `"openai", "anthropic"`) {
		t.Errorf("bad provider: err = %v", err)
	}
	s = Defaults()
	if err := s.ValidateHandoff(); err == nil || !strings.Contains(err.Error(), "tier.large.model") {
		t.Errorf("no model: err = %v", err)
	}
	if s.Handoff.KeyEnv() != "OPENAI_API_KEY" {
		t.Errorf("default key env %q", s.Handoff.KeyEnv())
	}
}

// TestRemoteSettings checks the engine setting and the [remote] table: a
// file sets them, the environment overrides the URL, and an unknown key in
// the table is named.
func TestRemoteSettings(t *testing.T) {
	root := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if err := os.MkdirAll(filepath.Join(root, ".lore"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := "engine = \"remote\"\n[remote]\nurl = \"http://127.0.0.1:1\"\napi_key_env = \"MY_KEY\"\nslot = \"2\"\nprotocol = \"chat\"\n"
	if err := os.WriteFile(RepoConfigPath(root), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvRemoteURL, "http://127.0.0.1:2")
	s, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	want := RemoteSettings{URL: "http://127.0.0.1:2", APIKeyEnv: "MY_KEY", Slot: "2", Protocol: ProtocolChat}
	if s.Engine != EngineRemote || s.Remote != want {
		t.Fatalf("engine %q, remote %+v; want remote, %+v", s.Engine, s.Remote, want)
	}
	if src := s.Source("remote.api_key_env"); !strings.Contains(src, "repo file") || !strings.HasSuffix(src, ":4") {
		t.Errorf("remote.api_key_env source %q, want the repo file's line 4", src)
	}
	if src := s.Source("remote.url"); src != "env "+EnvRemoteURL {
		t.Errorf("remote.url source %q", src)
	}
	if err := os.WriteFile(RepoConfigPath(root), []byte("[remote]\nurll = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(root); err == nil || !strings.Contains(err.Error(), "remote.urll") || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("unknown key in [remote]: %v", err)
	}
}
