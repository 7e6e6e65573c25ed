// Package layers holds lore's packages to the package map in docs/design.md:
// dependencies point down, and each package imports only the lore packages
// its row allows. It has no code of its own, only this test.
package layers

import (
	"errors"
	"os/exec"
	"path"
	"strings"
	"testing"
)

// allowed is the package map's last column: the lore packages each package
// may import (without the "lore/" prefix). A name ending in "/*" allows
// every package below it. Test files are not held to it.
var allowed = map[string][]string{
	"internal/bytesize":   nil,
	"internal/atomicfile": nil,
	"internal/rpcwire":    nil,
	"config":              {"internal/bytesize"},
	"api":                 {"config", "internal/atomicfile"},
	"internal/cmdline":    {"api", "config"},
	"cli/ask":             {"api", "config", "internal/cmdline"},
	"cmd/ask":             {"cli/ask"},
	"lsp":                 {"api", "config", "internal/atomicfile", "internal/rpcwire"},
	"models/gguf":         nil,
	"models/synth":        {"models/gguf"},
	"models":              {"config", "models/gguf"},
	"cache":               nil,
	"engine":              {"config", "internal/bytesize", "models"},
	"engine/remote":       {"config", "engine"},
	"ingest":              nil,
	"ingest/layout":       {"config"},
	"ingest/syntax":       {"ingest"},
	"ingest/scan":         {"config", "ingest", "ingest/syntax"},
	"ingest/history":      {"config", "ingest", "ingest/scan"},
	"ingest/rank":         {"ingest"},
	"ingest/retrieve":     {"ingest"},
	"ingest/pack":         {"ingest", "ingest/layout", "ingest/rank", "ingest/scan", "ingest/syntax"},
	"handoff/edit":        nil,
	"daemon":              {"api", "cache", "config", "engine", "ingest", "ingest/*", "internal/atomicfile", "internal/rpcwire"},
	"internal/bench":      {"api", "config", "engine", "engine/remote", "handoff/edit", "ingest", "ingest/*", "internal/cmdline", "lsp"},
	"cli": {"api", "cache", "config", "daemon", "engine", "engine/remote", "ingest", "ingest/*", "internal/atomicfile",
		"cli/ask", "internal/bench", "internal/bytesize", "internal/cmdline", "lsp", "models", "models/*", "handoff", "handoff/*"},
	"cmd/lore":                   {"cli"},
	"internal/testenv":           {"config", "models/synth"},
	"internal/tsgen":             {"api", "lsp"},
	"ingest/internal/ingesttest": nil,
	"editors/nvim":               nil,
	"editors/emacs":              nil,
	"handoff/tier":               nil,
	"handoff/tier/tiertest":      nil,
	"handoff":                    {"api", "config", "handoff/edit", "handoff/tier", "ingest", "ingest/rank", "ingest/scan"},
}

func TestPackageMap(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not available")
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "lore/...").Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderrOf(err))
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], "lore/")
		if pkg == "internal/layers" {
			continue
		}
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("lore/%s is not in the package map: give it a row in docs/design.md and in allowed", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ok := strings.CutPrefix(imp, "lore/")
			if !ok {
				continue
			}
			if !permits(rules, dep) {
				t.Errorf("lore/%s imports lore/%s, which its row of the package map does not allow", pkg, dep)
			}
		}
	}
}

func permits(rules []string, dep string) bool {
	for _, r := range rules {
		if r == dep {
			return true
		}
		if dir, ok := strings.CutSuffix(r, "/*"); ok && path.Dir(dep) == dir {
			return true
		}
	}
	return false
}

// stderrOf is what the go command printed on stderr before failing. Its
// stderr stays apart from the list, which warnings (a symlinked folder in the
// tree) would otherwise corrupt.
func stderrOf(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}
