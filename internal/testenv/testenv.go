// Package testenv gives lore's end-to-end tests what they share: the real
// llama.cpp library folder, a generated tiny model, lore binaries built from
// this tree and a private environment (state, sockets) per test.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"lore/config"
	"lore/models/synth"
)

// Root is the source tree's root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Unavailable stops a test that needs what this machine lacks (the llama.cpp
// libraries, nvim): it skips the test, or fails it when $LORE_TEST_REQUIRE is
// set, as `make test` sets it, so that a run meant to test everything cannot
// pass by skipping.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(config.EnvTestRequire) != "" {
		t.Fatalf("%s\n(%s is set: the tests may not skip for want of it)", msg, config.EnvTestRequire)
	}
	t.Skip(msg)
}

// LlamaLib returns the absolute llama.cpp library folder, $LORE_LLAMA_LIB or
// third_party/llama, and whether it holds libllama.so.
func LlamaLib() (string, bool) {
	lib := os.Getenv(config.EnvLlamaLib)
	if lib == "" {
		lib = filepath.Join(Root(), "third_party", "llama")
	}
	abs, err := filepath.Abs(lib)
	if err != nil {
		return lib, false
	}
	_, err = os.Stat(filepath.Join(abs, "libllama.so"))
	return abs, err == nil
}

// LibDir returns the llama.cpp library folder, or stops the test through
// Unavailable.
func LibDir(t testing.TB) string {
	t.Helper()
	lib, ok := LlamaLib()
	if !ok {
		Unavailable(t, "llama.cpp libraries not found in %s: run `make deps` (or set %s)", lib, config.EnvLlamaLib)
	}
	return lib
}

var (
	modelOnce sync.Once
	modelDir  string
	modelErr  error
)

// TinyModel generates the tiny test model once per test binary.
func TinyModel(t testing.TB) string {
	t.Helper()
	modelOnce.Do(func() {
		modelDir, modelErr = os.MkdirTemp("", "lore-model-")
		if modelErr == nil {
			modelErr = synth.WriteFile(filepath.Join(modelDir, "tiny.gguf"), synth.Tiny, synth.DefaultSeed)
		}
	})
	if modelErr != nil {
		t.Fatalf("generating the tiny model: %v", modelErr)
	}
	return filepath.Join(modelDir, "tiny.gguf")
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// Binaries builds lore and ask once per test binary and returns their folder.
func Binaries(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "lore-bin-")
		if binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+string(os.PathSeparator), "./cmd/lore", "./cmd/ask")
		cmd.Dir = Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{out: string(out), err: err}
		}
	})
	if binErr != nil {
		t.Fatalf("building the binaries: %v", binErr)
	}
	return binDir
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// Env is a private environment for daemons started by one test: the state
// and socket folders are the test's own, the model is the tiny one.
func Env(t testing.TB) []string {
	t.Helper()
	lib := LibDir(t)
	model := TinyModel(t)
	// Socket paths are limited to 108 bytes: keep the runtime folder short.
	run, err := os.MkdirTemp("", "lr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(run) })
	env := os.Environ()
	return append(env,
		config.EnvLlamaLib+"="+lib,
		config.EnvModel+"="+model,
		config.EnvStateDir+"="+filepath.Join(t.TempDir(), "state"),
		config.EnvRuntime+"="+run,
		config.EnvContext+"=8192",
		config.EnvThreads+"=2",
	)
}

// FixtureFiles are the files of FixtureRepo.
var FixtureFiles = map[string]string{
	"README.md":       "# fixture\n\nA small repository for lore's tests.\n",
	"go.mod":          "module fixture\n\ngo 1.22\n",
	"alpha/alpha.go":  "package alpha\n\n// Alpha greets.\nfunc Alpha(name string) string {\n\treturn \"hello \" + name\n}\n",
	"beta/beta.go":    "package beta\n\n// Beta adds.\nfunc Beta(a, b int) int {\n\treturn a + b\n}\n\ntype Point struct{ X, Y int }\n",
	"gamma/gamma.go":  "package gamma\n\nimport \"strings\"\n\n// Gamma shouts.\nfunc Gamma(s string) string {\n\treturn strings.ToUpper(s) + \"!\"\n}\n",
	"delta/delta.txt": "notes about delta — ünïcödé text 世界\n",
	// Large enough that one small file is a few percent of the pack, as in
	// a real repository, so that an edit stays in the overlay.
	"docs/guide.md": strings.Repeat("The fixture guide explains alpha, beta and gamma in detail.\n", 60),
}

// FixtureRepo creates a small committed git repository and returns its root.
func FixtureRepo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range FixtureFiles {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "fixture")
	root, err := config.FindRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	return root
}
