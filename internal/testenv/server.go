package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"lore/config"
)

// LlamaServerVersion is the node-llama-cpp release whose llama.cpp source
// `make deps-server` builds llama-server from (scripts/llama-server.sh).
const LlamaServerVersion = "3.22.1"

// LlamaServer returns the llama-server executable ($LORE_LLAMA_SERVER, or
// the one make deps-server builds in the user's cache folder), or stops the test
// through Unavailable: with LORE_TEST_REQUIRE set, a missing server fails
// the remote engine's tests instead of skipping them.
func LlamaServer(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(config.EnvLlamaServer)
	if bin == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			Unavailable(t, "llama-server: no cache folder (%v): set %s", err, config.EnvLlamaServer)
		}
		bin = filepath.Join(cache, "lore", "llama-server-"+LlamaServerVersion, "llama-server")
	}
	st, err := os.Stat(bin)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		Unavailable(t, "llama-server not found at %s: run `make deps-server` (or set %s)", bin, config.EnvLlamaServer)
	}
	return bin
}
