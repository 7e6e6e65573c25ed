package models

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"lore/config"
)

func TestHFURL(t *testing.T) {
	for ref, want := range map[string]string{
		"hf:unsloth/gpt-oss-20b-GGUF/gpt-oss-20b-Q4_K_M.gguf":  "https://huggingface.co/unsloth/gpt-oss-20b-GGUF/resolve/main/gpt-oss-20b-Q4_K_M.gguf",
		"hf:org/repo@v1.0/sub dir/m.gguf":                      "https://huggingface.co/org/repo/resolve/v1.0/sub%20dir/m.gguf",
		"hf:Qwen/Qwen3-GGUF@0123abcd/Q8/Qwen3-Q8_0-00001.GGUF": "https://huggingface.co/Qwen/Qwen3-GGUF/resolve/0123abcd/Q8/Qwen3-Q8_0-00001.GGUF",
	} {
		got, err := HFURL("", ref)
		if err != nil || got != want {
			t.Errorf("HFURL(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	if got, err := HFURL("http://127.0.0.1:1234/", "hf:o/r/f.gguf"); err != nil || got != "http://127.0.0.1:1234/o/r/resolve/main/f.gguf" {
		t.Errorf("custom endpoint: %q, %v", got, err)
	}
	for _, ref := range []string{"hf:o/r", "hf:o/r/f.bin", "hf:o//f.gguf", "hf:o/r/../f.gguf", "hf:o/@x/f.gguf", "hf:o/r@/f.gguf", "o/r/f.gguf"} {
		if _, err := HFURL("", ref); err == nil || !strings.Contains(err.Error(), "hf:ORG/REPO/FILE.gguf") {
			t.Errorf("HFURL(%q): %v", ref, err)
		}
	}
	if _, err := HFURL("ftp://x", "hf:o/r/f.gguf"); err == nil || !strings.Contains(err.Error(), EnvHFEndpoint) {
		t.Errorf("bad endpoint: %v", err)
	}
}

func TestResolvePull(t *testing.T) {
	t.Setenv(EnvHFEndpoint, "http://127.0.0.1:9")
	t.Setenv(EnvHFToken, " hf_secret ")
	src, err := ResolvePull("gpt-oss-20b")
	if err != nil || src.URL != "http://127.0.0.1:9/unsloth/gpt-oss-20b-GGUF/resolve/main/gpt-oss-20b-Q4_K_M.gguf" || src.File != "gpt-oss-20b-Q4_K_M.gguf" || src.Token != "hf_secret" {
		t.Errorf("recommended name: %+v, %v", src, err)
	}
	src, err = ResolvePull("https://example.org/x/m.gguf")
	if err != nil || src.Token != "" || src.File != "m.gguf" {
		t.Errorf("URL: %+v, %v (a plain URL must not get the token)", src, err)
	}
	if _, err := ResolvePull("qwen"); err == nil || !strings.Contains(err.Error(), "qwen3-coder-30b") {
		t.Errorf("unknown name: %v", err)
	}
}

// TestPullHF pulls through the hf: shorthand from a loopback server that
// speaks Hugging Face's protocol: the resolve URL answers with a redirect to
// another host (the CDN), which must not receive the token.
func TestPullHF(t *testing.T) {
	data := payload(1<<20 + 3)
	var mu sync.Mutex
	var cdnAuth []string
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cdnAuth = append(cdnAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		(&server{data: data}).ServeHTTP(w, r)
	}))
	defer cdn.Close()
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer hf_test_token" {
			http.Error(w, "gated", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/org/repo/resolve/main/m.gguf" {
			http.NotFound(w, r)
			return
		}
		// A different host name for the same loopback address, as the CDN
		// is another host than the hub.
		http.Redirect(w, r, strings.Replace(cdn.URL, "127.0.0.1", "localhost", 1)+"/m.gguf", http.StatusFound)
	}))
	defer hub.Close()
	t.Setenv(EnvHFEndpoint, hub.URL)
	dir := t.TempDir()

	t.Setenv(EnvHFToken, "")
	src, err := ResolvePull("hf:org/repo/m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Pull(context.Background(), PullOptions{URL: src.URL, Token: src.Token, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), EnvHFToken) {
		t.Fatalf("no token: %v", err)
	}

	t.Setenv(EnvHFToken, "hf_test_token")
	src, _ = ResolvePull("hf:org/repo/m.gguf")
	res, err := Pull(context.Background(), PullOptions{URL: src.URL, Token: src.Token, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != filepath.Join(dir, "m.gguf") || res.SHA256 != digest(data) {
		t.Errorf("pulled %+v", res)
	}
	for _, a := range cdnAuth {
		if a != "" {
			t.Errorf("the CDN host got Authorization %q", a)
		}
	}
}

func TestDefaultModel(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	dir := Dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	synth := config.SynthModelPath()
	if Default() != synth {
		t.Errorf("empty folder: default %s, want %s", Default(), synth)
	}
	touch := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("GGUF"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	touch("a.gguf")
	if Default() != filepath.Join(dir, "a.gguf") {
		t.Errorf("the only model: default %s", Default())
	}
	touch("b.gguf")
	if Default() != synth {
		t.Errorf("two models, no marker: default %s, want %s", Default(), synth)
	}
	if err := SetDefault(dir, "b.gguf"); err != nil {
		t.Fatal(err)
	}
	if Default() != filepath.Join(dir, "b.gguf") {
		t.Errorf("marker: default %s", Default())
	}
	touch("default.gguf")
	if Default() != filepath.Join(dir, "b.gguf") {
		t.Errorf("the marker wins over default.gguf: %s", Default())
	}
	if err := SetDefault(dir, "nope.gguf"); err == nil || !strings.Contains(err.Error(), "lore model ls") {
		t.Errorf("SetDefault of a missing file: %v", err)
	}
	if err := SetDefault(dir, "../x.gguf"); err == nil {
		t.Error("SetDefault accepted a path")
	}

	// rm: the file, its partial download and the marker naming it.
	touch("b.gguf" + PartialSuffix)
	removed, err := Remove(dir, "b")
	if err != nil || len(removed) != 2 {
		t.Fatalf("Remove: %v, %v", removed, err)
	}
	if DefaultName(dir) != "" {
		t.Errorf("the marker still names %q", DefaultName(dir))
	}
	if Default() != synth {
		t.Errorf("after rm: default %s, want default.gguf", Default())
	}
	if _, err := Remove(dir, "b.gguf"); err == nil || !strings.Contains(err.Error(), "no model b.gguf") {
		t.Errorf("Remove twice: %v", err)
	}
	if _, err := Remove(dir, "../a.gguf"); err == nil {
		t.Error("Remove accepted a path")
	}
	if _, err := os.Stat(filepath.Join(dir, "a.gguf")); err != nil {
		t.Errorf("a.gguf: %v", err)
	}
}

func TestRecommended(t *testing.T) {
	q, ok := FindRecommended("qwen3-coder-30b")
	if !ok {
		t.Fatal("qwen3-coder-30b is not recommended")
	}
	// 48 layers × 4 KV heads × (128 + 128) × 2 bytes.
	if got := q.KVBytesPerToken("f16"); got != 96<<10 {
		t.Errorf("f16 KV per token %d", got)
	}
	if got := q.KVBytesPerToken("q8_0"); got != 48*4*256*34/32 {
		t.Errorf("q8_0 KV per token %d", got)
	}
	for _, r := range RecommendedModels {
		if _, err := HFURL("", r.Ref()); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
}

func TestMeminfo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	os.WriteFile(p, []byte("MemTotal:       16318480 kB\nMemFree:  100 kB\nMemAvailable:    8000000 kB\n"), 0o644)
	if n, err := meminfoField(p, "MemAvailable"); err != nil || n != 8000000<<10 {
		t.Errorf("MemAvailable = %d, %v", n, err)
	}
	if _, err := meminfoField(p, "Nope"); err == nil || !strings.Contains(err.Error(), "memory_limit") {
		t.Errorf("missing field: %v", err)
	}
	if n, err := AvailableMemory(); err != nil || n <= 0 {
		t.Errorf("AvailableMemory = %d, %v", n, err)
	}
}
