// Package config holds every environment knob of lore and the folders it uses,
// in one place, so that the daemon, the CLIs and the tests agree on them.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables read by lore. Each one is documented in the README.
const (
	EnvModel     = "LORE_MODEL"      // path of the GGUF model the daemon loads
	EnvLlamaLib  = "LORE_LLAMA_LIB"  // folder holding libllama.so, libggml.so, libggml-base.so
	EnvContext   = "LORE_CTX"        // context size in tokens (0: the model's, capped)
	EnvThreads   = "LORE_THREADS"    // CPU threads for the engine (0: all cores)
	EnvGPULayers = "LORE_GPU_LAYERS" // layers offloaded to a GPU build (default 0)
	EnvStateDir  = "LORE_STATE_DIR"  // overrides the state folder (caches, snapshots, logs)
	// EnvMemoryLimit is the memory_limit setting: the bytes a model's
	// weights and KV cache may take (0: the available memory).
	EnvMemoryLimit = "LORE_MEMORY_LIMIT"
	EnvRuntime     = "LORE_RUNTIME_DIR" // overrides the folder holding daemon sockets
	EnvWatch       = "LORE_WATCH"       // "off" turns the file watcher off (the pack is then refreshed at each question only)
	// EnvTestRequire, when set (make test sets it), makes the tests fail
	// instead of skip when what they need is missing: the llama.cpp
	// libraries, nvim.
	EnvTestRequire = "LORE_TEST_REQUIRE"
)

// WatchOff reports whether LORE_WATCH turns the daemon's file watcher off
// ("off" or "0").
func WatchOff() bool {
	v := strings.TrimSpace(os.Getenv(EnvWatch))
	return strings.EqualFold(v, "off") || v == "0"
}

// StateDir is lore's per-user state folder: $LORE_STATE_DIR, else
// $XDG_STATE_HOME/lore, else ~/.local/state/lore.
func StateDir() string {
	if v := os.Getenv(EnvStateDir); v != "" {
		return v
	}
	if v := os.Getenv("XDG_STATE_HOME"); v != "" {
		return filepath.Join(v, "lore")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), fmt.Sprintf("lore-state-%d", os.Getuid()))
	}
	return filepath.Join(home, ".local", "state", "lore")
}

// DataDir is lore's per-user data folder (models, engine libraries):
// $XDG_DATA_HOME/lore, else ~/.local/share/lore.
func DataDir() string {
	if v := os.Getenv("XDG_DATA_HOME"); v != "" {
		return filepath.Join(v, "lore")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), fmt.Sprintf("lore-data-%d", os.Getuid()))
	}
	return filepath.Join(home, ".local", "share", "lore")
}

// RuntimeDir holds the daemons' sockets: $LORE_RUNTIME_DIR, else
// $XDG_RUNTIME_DIR/lore, else a per-user folder in the temp dir. Kept short
// because a unix socket path is limited to 108 bytes.
func RuntimeDir() string {
	if v := os.Getenv(EnvRuntime); v != "" {
		return v
	}
	if v := os.Getenv("XDG_RUNTIME_DIR"); v != "" {
		return filepath.Join(v, "lore")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("lore-%d", os.Getuid()))
}

// RepoID names a repository in lore's folders: its base name and a short hash
// of its absolute path, so two checkouts of one project never share state.
func RepoID(root string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(root)))
	base := filepath.Base(root)
	if len(base) > 32 {
		base = base[:32]
	}
	return base + "-" + hex.EncodeToString(sum[:6])
}

// MkdirPrivate creates dir and its missing parents with mode 0700, and
// closes dir to other users when it exists with a looser mode.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, st.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("making %s private: %w", dir, err)
		}
	}
	return nil
}

// RepoStateDir is the state folder of one repository.
func RepoStateDir(root string) string {
	return filepath.Join(StateDir(), "repos", RepoID(root))
}

// SocketPath is where the daemon of a repository listens.
func SocketPath(root string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(root)))
	return filepath.Join(RuntimeDir(), hex.EncodeToString(sum[:8])+".sock")
}

// ModelsDir is the models folder, DataDir()/models.
func ModelsDir() string { return filepath.Join(DataDir(), "models") }

// DefaultModelMarker is the file in the models folder that names the default
// model (one file name, written by `lore model pull` and `lore model use`).
const DefaultModelMarker = "default-model"

// SynthModelPath is where `lore model synth` writes without -o.
func SynthModelPath() string { return filepath.Join(ModelsDir(), "default.gguf") }

// DefaultModelPath is the model used when neither the settings, --model nor
// LORE_MODEL name one: the file the models folder's marker names (the model
// pulled last) if it exists, else default.gguf if it exists, else the only
// GGUF file in the folder; with none of these, default.gguf (whose absence
// the engine reports with what to run).
func DefaultModelPath() string {
	dir := ModelsDir()
	if b, err := os.ReadFile(filepath.Join(dir, DefaultModelMarker)); err == nil {
		name := strings.TrimSpace(string(b))
		if name != "" && name == filepath.Base(name) {
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil && !st.IsDir() {
				return filepath.Join(dir, name)
			}
		}
	}
	synth := SynthModelPath()
	if _, err := os.Stat(synth); err == nil {
		return synth
	}
	if ents, err := os.ReadDir(dir); err == nil {
		var only string
		n := 0
		for _, e := range ents {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".gguf") {
				only = e.Name()
				n++
			}
		}
		if n == 1 {
			return filepath.Join(dir, only)
		}
	}
	return synth
}

// LogPath is the log file of a repository's daemon when it runs in the
// background.
func LogPath(root string) string {
	return filepath.Join(RepoStateDir(root), "daemon.log")
}
