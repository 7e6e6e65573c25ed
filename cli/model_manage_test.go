package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/models"
	"lore/models/synth"
)

func TestModelPullLsInfo(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	src := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.WriteFile(src, synth.Tiny, synth.DefaultSeed); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tiny.gguf" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "tiny.gguf", time.Time{}, bytes.NewReader(body))
	}))
	defer ts.Close()

	var out, errb bytes.Buffer
	if err := runModel([]string{"pull", ts.URL + "/tiny.gguf"}, &out, &errb); err != nil {
		t.Fatalf("pull: %v\n%s", err, errb.String())
	}
	dest := filepath.Join(data, "lore", "models", "tiny.gguf")
	if !strings.Contains(out.String(), dest) || errb.Len() != 0 {
		t.Errorf("pull printed %q, stderr %q (no progress when piped)", out.String(), errb.String())
	}
	if err := runModel([]string{"pull", ts.URL + "/nope.gguf"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	if err := runModel([]string{"pull", "::bad"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "bad URL") {
		t.Errorf("bad URL: %v", err)
	}

	out.Reset()
	if err := runModel([]string{"ls", "--json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var ls struct {
		Dir    string        `json:"dir"`
		Models []models.Info `json:"models"`
	}
	if err := json.Unmarshal(out.Bytes(), &ls); err != nil || len(ls.Models) != 1 || ls.Models[0].Architecture != "llama" || ls.Models[0].Experts != 4 {
		t.Errorf("ls --json: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runModel([]string{"ls"}, &out, &errb); err != nil || !strings.Contains(out.String(), "tiny.gguf") || !strings.Contains(out.String(), "4 (2 used)") {
		t.Errorf("ls: %v\n%s", err, out.String())
	}

	repo := t.TempDir()
	os.WriteFile(filepath.Join(repo, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	out.Reset()
	if err := runModel([]string{"info", "tiny.gguf", "--json", "--memory", "1MiB", "--repo", repo}, &out, &errb); err != nil {
		t.Fatalf("info: %v", err)
	}
	var info modelInfoJSON
	if err := json.Unmarshal(out.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	if info.ContextLength != 262144 || info.KVBytesPerToken != 256 || info.TokensInMemory != 4096 || info.Repo == nil || info.Repo.PackTokens <= 0 || !info.Repo.FitsMemory {
		t.Errorf("info: %s", out.String())
	}
	out.Reset()
	if err := runModel([]string{"info", dest}, &out, &errb); err != nil || !strings.Contains(out.String(), "256 B per token") {
		t.Errorf("info text: %v\n%s", err, out.String())
	}
}

func TestModelInfoMemory(t *testing.T) {
	for _, s := range []string{"", "x", "-1", "0"} {
		var out, errb bytes.Buffer
		if err := runModel([]string{"info", "tiny.gguf", "--memory", s}, &out, &errb); err == nil || !strings.Contains(err.Error(), "--memory") {
			t.Errorf("--memory %q: %v", s, err)
		}
	}
}
