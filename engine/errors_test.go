package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lore/config"
)

func TestOpenMissingModel(t *testing.T) {
	for _, path := range []string{"", filepath.Join(t.TempDir(), "missing.gguf")} {
		cfg := tinyConfig()
		cfg.ModelPath = path
		e, err := Open(cfg)
		if err == nil {
			e.Close()
			t.Fatalf("Open(%q) succeeded", path)
		}
		for _, want := range []string{config.EnvModel, "`lore model ls`", "`lore model pull NAME`", "--recommended"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Open(%q): error %q does not mention %s", path, err, want)
			}
		}
		if strings.Contains(err.Error(), "--model") {
			t.Errorf("Open(%q): error %q points to --model, which ask does not take", path, err)
		}
	}

	cfg := tinyConfig()
	cfg.ModelPath = t.TempDir()
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Open(a directory): %v", err)
	}
}

func TestOpenNotAModel(t *testing.T) {
	needLib(t)
	path := filepath.Join(t.TempDir(), "junk.gguf")
	if err := os.WriteFile(path, []byte("this is not a GGUF file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig()
	cfg.ModelPath = path
	e, err := Open(cfg)
	if err == nil {
		e.Close()
		t.Fatal("Open of a junk file succeeded")
	}
	t.Logf("Open(junk): %v", err)
}

func TestFindLibraryMissing(t *testing.T) {
	empty := t.TempDir()
	_, err := FindLibrary(empty)
	if err == nil {
		t.Fatal("FindLibrary(empty dir) succeeded")
	}
	for _, want := range []string{"make deps", config.EnvLlamaLib, "libllama.so", empty} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("FindLibrary(empty dir): error %q does not mention %q", err, want)
		}
	}

	// The search: every candidate empty.
	t.Setenv(config.EnvLlamaLib, empty)
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	_, err = FindLibrary("")
	if err == nil {
		t.Skip("a llama.cpp library was found next to the test binary or in the working directory")
	}
	for _, want := range []string{"make deps", config.EnvLlamaLib, empty} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("FindLibrary(\"\"): error %q does not mention %q", err, want)
		}
	}

	// And the search finds a folder named by the environment variable.
	if testLib != "" {
		t.Setenv(config.EnvLlamaLib, testLib)
		if dir, err := FindLibrary(""); err != nil || dir != filepath.Clean(testLib) {
			t.Errorf("FindLibrary with %s=%s: %q, %v", config.EnvLlamaLib, testLib, dir, err)
		}
	}
}

func TestOpenOtherLibraryFolder(t *testing.T) {
	needLib(t)
	openTiny(t, tinyConfig()) // the libraries are loaded from testLib
	// A second, different folder holding the libraries is refused: they are
	// process-global.
	other := t.TempDir()
	for _, name := range requiredLibs {
		if err := os.Symlink(filepath.Join(testLib, name), filepath.Join(other, name)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := tinyConfig()
	cfg.LibDir = other
	if e, err := Open(cfg); err == nil {
		e.Close()
		t.Fatal("Open with a second library folder succeeded")
	} else if !strings.Contains(err.Error(), "already loaded") {
		t.Fatalf("Open with a second library folder: %v", err)
	}
}

func TestSyncLongerThanContext(t *testing.T) {
	cfg := tinyConfig()
	cfg.ContextSize = 256
	e := openTiny(t, cfg)
	n := e.Info().ContextSize
	toks := withBOS(e, e.Tokenize(sourceText(16, 30)))
	if len(toks) <= n {
		t.Fatalf("test text of %d tokens fits the context of %d", len(toks), n)
	}
	st, err := e.Sync(context.Background(), toks, nil)
	if err == nil {
		t.Fatalf("Sync of %d tokens into a context of %d succeeded: %+v", len(toks), n, st)
	}
	t.Logf("Sync: %v", err)
	// Exactly the context is also too long: a question needs room.
	if _, err := e.Sync(context.Background(), toks[:n], nil); err == nil {
		t.Fatalf("Sync of exactly %d tokens succeeded", n)
	}
	// The engine is still usable.
	prefix := toks[:n/2]
	mustSync(t, e, prefix)
	q := e.Tokenize(question)
	other := openTiny(t, cfg)
	requireBitEqual(t, "after a refused Sync", mustLogits(t, e, q), mustLogits(t, other, concat(prefix, q)))
	// The longest prefix that fits.
	if st := mustSync(t, e, toks[:n-1]); st.Reused != len(prefix) {
		t.Fatalf("Sync(%d tokens): %+v", n-1, st)
	}
}

func TestTokenizeNUL(t *testing.T) {
	e := openTiny(t, tinyConfig())
	for _, s := range []string{"a\x00b", "\x00", "x\x00\x00y 日本\x00語"} {
		toks := e.Tokenize(s)
		if len(toks) == 0 {
			t.Fatalf("Tokenize(%q) returned no tokens", s)
		}
		var b []byte
		for _, tok := range toks {
			if tok < 0 || int(tok) >= e.Info().VocabSize {
				t.Fatalf("Tokenize(%q): token %d out of the vocabulary", s, tok)
			}
			b = append(b, e.Piece(tok)...)
		}
		if want := strings.ReplaceAll(s, "\x00", "\uFFFD"); string(b) != want {
			t.Errorf("Tokenize(%q) detokenizes to %q, want %q", s, b, want)
		}
	}
	if toks := e.Tokenize(""); len(toks) != 0 {
		t.Errorf("Tokenize(\"\") = %v", toks)
	}
}

// TestTokenizeLongWord: a stretch without white space much longer than
// maxRun is tokenized (whole, its time would grow with the square of its
// length: about 30 minutes for these 4 MiB) and still spells the text.
func TestTokenizeLongWord(t *testing.T) {
	e := openTiny(t, tinyConfig())
	word := strings.Repeat("x", 4<<20-3) + "é日" + strings.Repeat("y", 4096) + " z"
	done := make(chan []Token, 1)
	go func() { done <- e.Tokenize(word) }()
	var toks []Token
	select {
	case toks = <-done:
	case <-time.After(2 * time.Minute): // a hang guard, not a timing check
		t.Fatal("tokenizing a 4 MiB word did not end")
	}
	var b strings.Builder
	for _, tok := range toks {
		b.Write(e.Piece(tok))
	}
	if b.String() != word {
		t.Fatalf("the tokens of a long word spell %d bytes, not the %d of the word", b.Len(), len(word))
	}
	// Text with white space is tokenized in one call: its tokens are the
	// ones llama.cpp gives for the whole.
	for _, s := range []string{"a b", strings.Repeat("ab ", maxRun), strings.Repeat("x", maxRun) + " y"} {
		if p := splitRuns(s, maxRun); len(p) != 1 {
			t.Errorf("%.20q... was cut into %d pieces", s, len(p))
		}
	}
	for _, p := range splitRuns(word, maxRun) {
		if !utf8.ValidString(p) || len(p) > maxRun+utf8.UTFMax {
			t.Fatalf("a piece of %d bytes (valid UTF-8: %v)", len(p), utf8.ValidString(p))
		}
	}
}

func TestInfoAndClose(t *testing.T) {
	cfg := tinyConfig()
	cfg.BatchSize, cfg.Sequences = 0, 0
	e := openTiny(t, cfg)
	info := e.Info()
	if info.Architecture != "llama" || info.Layers != 2 || info.Experts != 4 || info.ExpertsUsed != 2 || info.VocabSize != 1000 {
		t.Errorf("Info() = %+v, want a llama MoE with 2 layers, 4 experts (2 used), 1000 tokens", info)
	}
	if info.ContextSize != cfg.ContextSize || len(info.Fingerprint) != 32 {
		t.Errorf("Info() = %+v", info)
	}
	if s := e.Settings(); s.BatchSize != DefaultBatchSize || s.Sequences != DefaultSequences || s.Threads <= 0 || s.LibDir != testLib {
		t.Errorf("Settings() = %+v: defaults not filled in", s)
	}
	if bos, ok := e.BOS(); ok && bos != 1 {
		t.Errorf("BOS() = %d, want 1", bos)
	}
	if fp, err := Fingerprint(tinyModel); err != nil || fp != info.Fingerprint {
		t.Errorf("Fingerprint = %q, %v; Info says %q", fp, err, info.Fingerprint)
	}

	mustSync(t, e, withBOS(e, e.Tokenize("package main\n")))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := e.Sync(ctx, []Token{1, 5}, nil); err != ErrClosed {
		t.Errorf("Sync after Close: %v", err)
	}
	if _, err := e.PromptLogits(ctx, []Token{5}); err != ErrClosed {
		t.Errorf("PromptLogits after Close: %v", err)
	}
	if _, err := e.Generate(ctx, GenerateRequest{Prompt: []Token{5}}, func(string) error { return nil }); err != ErrClosed {
		t.Errorf("Generate after Close: %v", err)
	}
	if _, _, err := e.SaveState(); err != ErrClosed {
		t.Errorf("SaveState after Close: %v", err)
	}
	if err := e.LoadState(nil, nil); err != ErrClosed {
		t.Errorf("LoadState after Close: %v", err)
	}
	if err := e.Truncate(0); err != ErrClosed {
		t.Errorf("Truncate after Close: %v", err)
	}
}
