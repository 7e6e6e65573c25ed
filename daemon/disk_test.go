package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lore/config"
	"lore/internal/testenv"
)

// TestFullDiskKeepsAnswering fills the real file system (a tmpfs) holding a
// real daemon's state folder. The daemon used to die of SIGBUS in badger's
// memory-mapped write-ahead log, and again at every start; now it stops
// writing its cache, answers, says so in status and answers, and writes
// again once there is room.
func TestFullDiskKeepsAnswering(t *testing.T) {
	e := newEnv(t)
	disk := testenv.Tmpfs(t, 96<<20)
	e.vars = append(e.vars, config.EnvStateDir+"="+disk, config.EnvWatch+"=off")
	d := e.start()
	st := d.ready(t)
	if st.Disk == nil || st.Disk.Full || st.Disk.FreeBytes < st.Disk.ReserveBytes || st.Disk.Dir != e.stateDir() {
		t.Fatalf("disk state on an empty file system: %+v", st.Disk)
	}
	fill := testenv.FillDisk(t, disk)

	edit := func(i int) {
		t.Helper()
		var b strings.Builder
		for j := 0; j < 40; j++ {
			fmt.Fprintf(&b, "// edit %d line %d: the store must not write this segment's tokens to a full disk\n", i, j)
		}
		p := filepath.Join(e.repo, "beta", "beta.go")
		if err := os.WriteFile(p, []byte(testenv.FixtureFiles["beta/beta.go"]+b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		edit(i)
		res, _ := d.ask(t, "What does Beta do?")
		if !strings.Contains(res.DiskWarning, "the disk is full") || !strings.Contains(res.DiskWarning, e.stateDir()) {
			t.Fatalf("answer on a full disk: warning %q", res.DiskWarning)
		}
	}
	st, err := d.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Disk == nil || !st.Disk.Full || st.Disk.InMemory || st.Disk.Since.IsZero() || !strings.Contains(st.Disk.Message, "answers are not affected") {
		t.Fatalf("status on a full disk: %+v", st.Disk)
	}
	d.stop(t) // the final snapshot and the database's flush are skipped, not fatal

	// Starting on a full disk: the cache database stays in memory.
	d = e.start()
	st = d.ready(t)
	if st.Disk == nil || !st.Disk.Full || !st.Disk.InMemory {
		t.Fatalf("status after starting on a full disk: %+v", st.Disk)
	}
	if res, _ := d.ask(t, "What does Beta do?"); res.DiskWarning == "" {
		t.Fatal("no disk warning when starting on a full disk")
	}

	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	st, err = d.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Disk == nil || st.Disk.Full || st.Disk.InMemory || st.Disk.Message != "" {
		t.Fatalf("status once space is back: %+v", st.Disk)
	}
	if res, _ := d.ask(t, "What does Beta do?"); res.DiskWarning != "" {
		t.Fatalf("disk warning once space is back: %q", res.DiskWarning)
	}
	d.stop(t)
	if _, err := os.Stat(e.branchSnapshot()); err != nil {
		t.Fatal(err)
	}
	d = e.start()
	if st := d.ready(t); st.RestoredTokens == 0 || st.PrefilledTokens != 0 {
		t.Fatalf("restart once space was back: restored %d, prefilled %d", st.RestoredTokens, st.PrefilledTokens)
	}
	d.stop(t)
}
