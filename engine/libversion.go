package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// LibraryVersion describes the llama.cpp build in the library folder dir:
// the package version `make deps` recorded (its .installed-VERSION stamp)
// and the llama.cpp release in the build's metadata (llama-build.json),
// when they are there. The libraries have no version call of their own.
func LibraryVersion(dir string) string {
	var parts []string
	if stamps, _ := filepath.Glob(filepath.Join(dir, ".installed-*")); len(stamps) > 0 {
		parts = append(parts, "node-llama-cpp build "+strings.TrimPrefix(filepath.Base(stamps[len(stamps)-1]), ".installed-"))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "llama-build.json")); err == nil {
		var meta struct {
			BuildOptions struct {
				GPU      any `json:"gpu"`
				LlamaCpp struct {
					Repo    string `json:"repo"`
					Release string `json:"release"`
				} `json:"llamaCpp"`
			} `json:"buildOptions"`
		}
		if json.Unmarshal(b, &meta) == nil && meta.BuildOptions.LlamaCpp.Release != "" {
			parts = append(parts, "llama.cpp "+meta.BuildOptions.LlamaCpp.Release)
		}
	}
	if len(parts) == 0 {
		return "unknown version (a build not installed by make deps)"
	}
	return strings.Join(parts, ", ")
}
