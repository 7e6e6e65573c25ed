package remote_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/config"
	"lore/engine"
	"lore/engine/remote"
	"lore/internal/testenv"
)

// TestOpenAICompatible runs the generic mode against llama-server's
// OpenAI-compatible endpoints, as it would run against vLLM or SGLang: the
// pack goes as a text prefix, and the second question reports it cached
// (usage.prompt_tokens_details.cached_tokens).
func TestOpenAICompatible(t *testing.T) {
	srv := startServer(t, 1, "")
	for _, proto := range []string{config.ProtocolCompletions, config.ProtocolChat} {
		t.Run(proto, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			e, err := remote.Open(ctx, remote.Config{URL: srv.URL, Protocol: proto, Key: t.Name(),
				Local: engine.Config{LibDir: testenv.LibDir(t), ModelPath: testenv.TinyModel(t), ContextSize: 8192}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			var text strings.Builder
			for name, body := range testenv.FixtureFiles {
				text.WriteString("<file path=\"" + name + "\">\n" + body + "</file>\n")
			}
			prefix := e.Tokenize(text.String())
			if _, err := e.Sync(ctx, prefix, nil); err != nil {
				t.Fatal(err)
			}
			for i, q := range []string{"\nWhat does Alpha do?\n", "\nWhat does Beta do?\n"} {
				var got strings.Builder
				st, err := e.Generate(ctx, engine.GenerateRequest{Prompt: e.Tokenize(q), MaxTokens: 8}, func(s string) error {
					got.WriteString(s)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				// The server counts with its own template around the text:
				// the prefix, less a few tokens at its edges, is cached.
				if got.Len() == 0 || st.GeneratedTokens == 0 || st.PromptTokens < len(prefix) || st.CachedTokens < len(prefix)-8 {
					t.Fatalf("question %d: %q, %+v (prefix %d tokens)", i, got.String(), st, len(prefix))
				}
			}
			// No slots to save: the daemon keeps no snapshot.
			if state, toks, err := e.SaveStateAs("branch-main"); err != nil || state != nil || toks != nil {
				t.Fatalf("SaveState: %v %v %v", state, toks, err)
			}
		})
	}
}

// TestOpenAIDaemon runs a daemon with remote.protocol = "completions"
// against llama-server's /v1/completions: it answers, and the second
// question finds the pack cached by the server.
func TestOpenAIDaemon(t *testing.T) {
	srv := startServer(t, 1, "")
	cfgDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cfgDir, "lore"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "lore", "config.toml"), []byte("[remote]\nprotocol = \"completions\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, srv.URL, "XDG_CONFIG_HOME="+cfgDir)
	d := e.start()
	st := d.ready(t)
	if !strings.Contains(st.Engine, "(completions)") || st.PackTokens == 0 {
		t.Fatalf("status: engine %q pack %d", st.Engine, st.PackTokens)
	}
	d.ask(t, "What does Gamma do?")
	res := d.ask(t, "What does Beta do?")
	// The server counts its own tokens of the pack's text: within a few
	// of the local count at its edges.
	if res.Text == "" || res.CachedTokens < st.PackTokens-8 || res.CachedTokens >= res.PromptTokens {
		t.Fatalf("second answer: %+v (pack %d tokens)", res, st.PackTokens)
	}
	d.stop(t)
}
