package daemon_test

import (
	"os"
	"strings"
	"testing"

	"lore/config"
)

// TestDiscardedSnapshotSaysWhy: every snapshot the daemon cannot restore is
// logged with its reason and shown in status. A truncated snapshot and one
// made with another context size used to be prefilled over silently (only a
// checksum mismatch was logged).
func TestDiscardedSnapshotSaysWhy(t *testing.T) {
	e := newEnv(t)
	d := e.start()
	d.ready(t)
	d.stop(t)

	restart := func(want string, extra ...string) {
		t.Helper()
		d := e.start(extra...)
		st := d.ready(t)
		d.stop(t)
		got := st.SnapshotDiscarded
		if want == "" {
			if got != nil || st.RestoredTokens == 0 {
				t.Fatalf("clean restart: discarded %+v, restored %d", got, st.RestoredTokens)
			}
			return
		}
		if got == nil || !strings.Contains(got.Reason, want) || !strings.HasPrefix(got.Name, "branch-") || got.At.IsZero() || st.RestoredTokens != 0 {
			t.Fatalf("status after a snapshot that is %s: discarded %+v, restored %d", want, got, st.RestoredTokens)
		}
		if log := d.stderr.String(); !strings.Contains(log, "snapshot discarded") || !strings.Contains(log, want) {
			t.Fatalf("no log line saying the snapshot was discarded because %s:\n%s", want, log)
		}
	}

	snap := e.branchSnapshot()
	fi, err := os.Stat(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(snap, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	restart("state bytes, file holds")
	restart("")

	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 2; i < len(b)/2+64; i++ {
		b[i] ^= 0xA5
	}
	if err := os.WriteFile(snap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	restart("checksum mismatch")

	e.vars = append(e.vars, config.EnvContext+"=4096")
	restart("context 8192 tokens, now 4096")
}
