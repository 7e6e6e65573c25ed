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

	"lore/engine"
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
	if err := runModel([]string{"pull", "::bad"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "neither a URL") {
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

// TestModelPullHFDefaultRm pulls with the hf: shorthand from a loopback
// server standing in for Hugging Face (HF_ENDPOINT), checks that the pulled
// model becomes the default, then picks another one with use and removes it.
func TestModelPullHFDefaultRm(t *testing.T) {
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
		if r.URL.Path != "/org/repo/resolve/main/tiny.gguf" || r.Header.Get("Authorization") != "Bearer hf_x" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "tiny.gguf", time.Time{}, bytes.NewReader(body))
	}))
	defer ts.Close()
	t.Setenv(models.EnvHFEndpoint, ts.URL)
	t.Setenv(models.EnvHFToken, "hf_x")
	dir := models.Dir()
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "other.gguf"), body, 0o644)

	var out, errb bytes.Buffer
	if err := runModel([]string{"pull", "hf:org/repo/tiny.gguf"}, &out, &errb); err != nil {
		t.Fatalf("pull: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "tiny.gguf is now the default model") || strings.Contains(out.String()+errb.String(), "hf_x") {
		t.Errorf("pull printed %q %q", out.String(), errb.String())
	}
	if got := models.Default(); got != filepath.Join(dir, "tiny.gguf") {
		t.Errorf("default after pull: %s", got)
	}
	out.Reset()
	if err := runModel([]string{"ls"}, &out, &errb); err != nil || !strings.Contains(out.String(), "* tiny.gguf") || !strings.Contains(out.String(), "  other.gguf") {
		t.Errorf("ls marks the default: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runModel([]string{"use", "other"}, &out, &errb); err != nil || models.Default() != filepath.Join(dir, "other.gguf") {
		t.Errorf("use: %v %s", err, out.String())
	}
	out.Reset()
	if err := runModel([]string{"rm", "other.gguf"}, &out, &errb); err != nil || !strings.Contains(out.String(), "removed "+filepath.Join(dir, "other.gguf")) {
		t.Errorf("rm: %v %s", err, out.String())
	}
	// Only tiny.gguf is left: it is the default without a marker.
	if got := models.Default(); got != filepath.Join(dir, "tiny.gguf") || models.DefaultName(dir) != "" {
		t.Errorf("default after rm: %s (marker %q)", got, models.DefaultName(dir))
	}
	if err := runModel([]string{"rm", "other.gguf"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "lore model ls") {
		t.Errorf("rm twice: %v", err)
	}
}

func TestModelLsRecommended(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runModel([]string{"ls", "--recommended", "--memory", "24GiB", "--json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var rows []recommendedJSON
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) < 2 {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, r := range rows {
		want := int64(engine.ContextThatFits(r.DownloadBytes, r.KVBytesPerToken, 24<<30, r.TrainContext))
		if r.ContextFits != want || r.ContextFits <= 0 || r.MemoryBytes != 24<<30 || !strings.HasPrefix(r.Ref, "hf:") {
			t.Errorf("%s: %+v, want context %d", r.Name, r, want)
		}
	}
	out.Reset()
	if err := runModel([]string{"ls", "--recommended", "--memory", "8GB"}, &out, &errb); err != nil || !strings.Contains(out.String(), "does not fit") || !strings.Contains(out.String(), "lore model pull gpt-oss-20b") {
		t.Errorf("text: %v\n%s", err, out.String())
	}
	if err := runModel([]string{"ls", "--recommended", "--kv-cache-type", "q2"}, &out, &errb); err == nil {
		t.Error("bad --kv-cache-type accepted")
	}
}
