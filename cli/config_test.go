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

// configEnv is the environment without LORE_* variables, with a private
// user config folder; extra variables are appended.
func configEnv(t *testing.T, extra ...string) (vars []string, userFile string) {
	t.Helper()
	xdg := t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LORE_") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			vars = append(vars, kv)
		}
	}
	vars = append(vars, "XDG_CONFIG_HOME="+xdg)
	return append(vars, extra...), filepath.Join(xdg, "lore", "config.toml")
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConfigShowJSON checks that `lore config show --json` reports every
// setting with the layer it came from.
func TestConfigShowJSON(t *testing.T) {
	repo := testenv.FixtureRepo(t)
	vars, user := configEnv(t, config.EnvThreads+"=3")
	writeFile(t, user, "context = 4096\nthreads = 1\nidle_shutdown = \"30m\"\n")
	repoFile := filepath.Join(repo, ".lore", "config.toml")
	writeFile(t, repoFile, "# repo\nsnapshot_budget = \"4GiB\"\nkv_cache_type = \"q4_0\"\nexclude = [\"docs/\"]\n")

	out, errOut, code := run(t, vars, filepath.Join(repo, "alpha"), "lore", "config", "show", "--json")
	if code != 0 {
		t.Fatalf("config show exit %d:\n%s", code, errOut)
	}
	var res struct {
		UserFile string `json:"user_file"`
		RepoFile string `json:"repo_file"`
		Settings []struct {
			Key    string `json:"key"`
			Value  any    `json:"value"`
			Text   string `json:"text"`
			Source string `json:"source"`
		} `json:"settings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("config show --json: %v\n%s", err, out)
	}
	if res.UserFile != user || res.RepoFile != repoFile {
		t.Errorf("files %q, %q; want %q, %q", res.UserFile, res.RepoFile, user, repoFile)
	}
	got := map[string][2]string{}
	for _, s := range res.Settings {
		v, _ := json.Marshal(s.Value)
		got[s.Key] = [2]string{string(v), s.Source}
	}
	want := map[string][2]string{
		"context":         {"4096", "user file " + user + ":1"},
		"threads":         {"3", "env " + config.EnvThreads},
		"idle_shutdown":   {`"30m0s"`, "user file " + user + ":3"},
		"snapshot_budget": {"4294967296", "repo file " + repoFile + ":2"},
		"kv_cache_type":   {`"q4_0"`, "repo file " + repoFile + ":3"},
		"exclude":         {`["docs/"]`, "repo file " + repoFile + ":4"},
		"max_file_size":   {"1048576", "default"},
		"flash_attention": {"false", "default"},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if len(res.Settings) != len(config.Keys()) {
		t.Errorf("%d settings shown, want %d", len(res.Settings), len(config.Keys()))
	}

	// The text form has one line per setting.
	out, errOut, code = run(t, vars, repo, "lore", "config", "show")
	if code != 0 || !strings.Contains(out, "repo file "+repoFile+":3") || strings.Count(out, "\n") != len(config.Keys()) {
		t.Errorf("config show exit %d:\n%s%s", code, out, errOut)
	}

	out, _, code = run(t, vars, repo, "lore", "config", "path")
	if code != 0 || !strings.Contains(out, user) || !strings.Contains(out, repoFile) {
		t.Errorf("config path exit %d:\n%s", code, out)
	}
}

// TestConfigShowBadFile checks that a bad config file is a usage error that
// names the file, the line and the key.
func TestConfigShowBadFile(t *testing.T) {
	repo := testenv.FixtureRepo(t)
	vars, _ := configEnv(t)
	repoFile := filepath.Join(repo, ".lore", "config.toml")
	writeFile(t, repoFile, "context = 1024\nkv_cache = \"f16\"\n")
	_, errOut, code := run(t, vars, repo, "lore", "config", "show", "--json")
	if code != 2 || !strings.Contains(errOut, repoFile+":2: kv_cache: unknown key") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}
