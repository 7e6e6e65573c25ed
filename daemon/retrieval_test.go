package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lore/config"
	"lore/engine"
)

// The daemon sizes a question's retrieval by the prefill speed it measured
// and retrieval_latency: with a target far below what the machine prefills
// in the room, a question gets the floor, not the whole room, and what it
// retrieves stays within it. The answer says which files it saw whole.
func TestRetrievalAllowanceFromMeasuredSpeed(t *testing.T) {
	const ctxSize = 24576 // a room of 1536 tokens for retrieval, above the floor
	const latency = time.Millisecond
	e := newEnv(t)
	e.vars = append(e.vars, config.EnvContext+fmt.Sprint("=", ctxSize), "XDG_CONFIG_HOME="+t.TempDir())
	if err := os.MkdirAll(filepath.Join(e.repo, ".lore"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.repo, ".lore", "config.toml"), []byte("retrieval_latency = \"1ms\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// More text than the pack holds, so some files are left to retrieval,
	// each small enough to fit the floor whole.
	for i := range 80 {
		var b strings.Builder
		for j := range 24 {
			fmt.Fprintf(&b, "Ledger entry %d of volume %d: the walrus counted %d barrels of herring.\n", j, i, i*j)
		}
		if err := os.WriteFile(filepath.Join(e.repo, fmt.Sprintf("ledger%02d.txt", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := e.start()
	st := d.ready(t)
	room := engine.RetrievalRoom(ctxSize, false)
	want := engine.RetrievalAllowance(room, st.PrefillTokensPerSec, latency)
	if st.PrefillTokensPerSec <= 0 || want >= room {
		t.Fatalf("prefill speed %.0f tokens/s gives %d of a %d-token room: the test needs a measured speed and a lower target", st.PrefillTokensPerSec, want, room)
	}
	if st.RetrievalAllowance != want {
		t.Errorf("status says %d tokens per question, want %d (room %d, %.0f tokens/s, %s)", st.RetrievalAllowance, want, room, st.PrefillTokensPerSec, latency)
	}
	if len(st.Omitted) == 0 {
		t.Fatalf("all %d files are in the pack in full: the fixture needs more text", st.Files)
	}
	named := st.Omitted[0].Path
	res, _ := d.ask(t, "What does "+named+" say about the walrus?")
	if res.RetrievalAllowance != want {
		t.Errorf("the question could spend %d tokens, want %d", res.RetrievalAllowance, want)
	}
	if res.RetrievedTokens == 0 || res.RetrievedTokens > want {
		t.Errorf("retrieved %d tokens (%v) within an allowance of %d", res.RetrievedTokens, res.Retrieved, want)
	}
	if !slices.Contains(res.RetrievedFull, named) || !slices.Contains(res.Retrieved, named) {
		t.Errorf("retrieved %v, in full %v: want %s in full", res.Retrieved, res.RetrievedFull, named)
	}
	// The question's own prefill is now the speed the allowance goes by.
	after, err := d.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := res.PromptTokens - res.CachedTokens; n < 256 || after.QuestionPrefillTokensPerSec <= 0 {
		t.Fatalf("a question prefilled %d tokens; question prefill speed %.0f tokens/s", n, after.QuestionPrefillTokensPerSec)
	}
	if rate := after.QuestionPrefillTokensPerSec; after.RetrievalAllowance != engine.RetrievalAllowance(room, rate, latency) {
		t.Errorf("after a question at %.0f tokens/s the status allows %d tokens, want %d", rate, after.RetrievalAllowance, engine.RetrievalAllowance(room, rate, latency))
	}
	if !slices.Equal(after.LastRetrievedFull, res.RetrievedFull) || !slices.Equal(after.LastRetrieved, res.Retrieved) {
		t.Errorf("status: last retrieved %v, in full %v; the answer's %v, %v", after.LastRetrieved, after.LastRetrievedFull, res.Retrieved, res.RetrievedFull)
	}
	for _, p := range res.RetrievedFull {
		if !slices.Contains(res.Retrieved, p) {
			t.Errorf("%s in full but not among the retrieved %v", p, res.Retrieved)
		}
	}
	d.stop(t)
}
