package ask_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestThinClients holds ask and the LSP bridge to the daemon's API: neither
// may link the engine, the repository reader, the KV store or the daemon,
// nor any cgo outside the standard library.
func TestThinClients(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not available")
	}
	heavy := []string{"lore/ingest", "lore/engine", "lore/cache", "lore/daemon"}
	for _, pkg := range []string{"lore/cmd/ask", "lore/lsp"} {
		out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}} {{and .CgoFiles (not .Standard)}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderrOf(err))
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			path, cgo, _ := strings.Cut(line, " ")
			for _, h := range heavy {
				if path == h || strings.HasPrefix(path, h+"/") {
					t.Errorf("%s imports %s", pkg, path)
				}
			}
			if cgo == "true" {
				t.Errorf("%s imports %s, which uses cgo", pkg, path)
			}
		}
	}
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
