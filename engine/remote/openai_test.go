package remote_test

import (
	"context"
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
