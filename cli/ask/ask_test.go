package ask

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"lore/engine"
)

// TestTopKHelp keeps the --top-k help true: the daemon leaves a top_k of 0
// to the engine's default.
func TestTopKHelp(t *testing.T) {
	var help bytes.Buffer
	if code := Main([]string{"--help"}, &help, io.Discard); code != 0 {
		t.Fatalf("ask --help: exit %d", code)
	}
	if want := fmt.Sprintf("0 = the daemon's default (%d)", engine.DefaultTopK); !strings.Contains(help.String(), want) {
		t.Errorf("ask --help does not say %q:\n%s", want, help.String())
	}
}
