package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hybridgroup/yzma/pkg/llama"

	"lore/config"
)

// requiredLibs are the files yzma opens by exact name in the library folder.
var requiredLibs = []string{"libllama.so", "libggml.so", "libggml-base.so"}

// LibraryCandidates lists, in order, the folders searched for the llama.cpp
// libraries when none is given: $LORE_LLAMA_LIB, third_party/llama next to
// (or one level above) the running binary, the current directory's
// third_party/llama, and the per-user data folder.
func LibraryCandidates() []string {
	var dirs []string
	if v := os.Getenv(config.EnvLlamaLib); v != "" {
		dirs = append(dirs, v)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			d := filepath.Dir(exe)
			dirs = append(dirs, filepath.Join(d, "third_party", "llama"), filepath.Join(d, "..", "third_party", "llama"))
		}
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, filepath.Join(wd, "third_party", "llama"))
	}
	return append(dirs, filepath.Join(config.DataDir(), "llama"))
}

// FindLibrary returns the folder holding the llama.cpp libraries. An explicit
// dir is used as is (and checked); otherwise the candidates are tried in order.
// The error names every folder tried and how to fix the problem.
func FindLibrary(dir string) (string, error) {
	if dir != "" {
		if missing := missingLibs(dir); len(missing) > 0 {
			return "", fmt.Errorf("llama.cpp library folder %s lacks %s: point %s at a folder holding %s (run `make deps` for the pinned CPU build)",
				dir, strings.Join(missing, ", "), config.EnvLlamaLib, strings.Join(requiredLibs, ", "))
		}
		return dir, nil
	}
	tried := LibraryCandidates()
	for _, d := range tried {
		if len(missingLibs(d)) == 0 {
			return filepath.Clean(d), nil
		}
	}
	return "", fmt.Errorf("llama.cpp libraries not found (looked in %s): run `make deps` in the lore source tree to install the pinned CPU build, or set %s to a folder holding %s (for example a GPU build of llama.cpp)",
		strings.Join(tried, ", "), config.EnvLlamaLib, strings.Join(requiredLibs, ", "))
}

func missingLibs(dir string) []string {
	var missing []string
	for _, name := range requiredLibs {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			missing = append(missing, name)
		}
	}
	return missing
}

var (
	loadMu  sync.Mutex
	loaded  string
	loadErr error
)

// loadLibrary loads the llama.cpp libraries once per process. The C libraries
// are process-global, so a second, different folder is refused.
func loadLibrary(dir string) error {
	loadMu.Lock()
	defer loadMu.Unlock()
	if loaded != "" || loadErr != nil {
		if loadErr == nil && loaded != dir {
			return fmt.Errorf("llama.cpp libraries already loaded from %s; cannot also load %s in one process", loaded, dir)
		}
		return loadErr
	}
	if err := llama.Load(dir); err != nil {
		loadErr = fmt.Errorf("loading llama.cpp libraries from %s: %w (they need libffi8 and glibc >= 2.34; `make deps` installs a compatible build)", dir, err)
		return loadErr
	}
	llama.LogSet(llama.LogSilent())
	llama.Init()
	loaded = dir
	return nil
}
