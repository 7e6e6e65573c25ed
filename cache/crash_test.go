//go:build unix

package cache

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	crashHelperEnv = "LORE_CACHE_CRASH_HELPER"
	crashDirEnv    = "LORE_CACHE_CRASH_DIR"
	crashBaseEnv   = "LORE_CACHE_CRASH_BASE"
	crashName      = "main"
)

// crashHeader and crashState derive a snapshot deterministically from its
// version, so that the parent can tell exactly which version it loaded and
// check every byte of it.
func crashHeader(v int) SnapshotHeader {
	n := 1000 + v%97
	toks := make([]int32, n)
	for i := range toks {
		toks[i] = int32(v*7 + i)
	}
	return SnapshotHeader{
		ModelFingerprint: "crash-v" + strconv.Itoa(v),
		Settings:         Settings{ContextSize: 8192, KVType: "f16", Sequences: 2},
		Tokens:           toks,
		Segments:         []SegmentMark{{fmt.Sprint("a", v), n / 2}, {fmt.Sprint("b", v), n}},
	}
}

func crashState(v int) []byte {
	// 4 MiB plus a version-dependent tail, so that versions differ in size.
	b := make([]byte, 4<<20+(v%13)*4099)
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(v))
	rand.NewChaCha8(seed).Read(b)
	return b
}

// TestHelperProcess is not a real test: it is the child process of
// TestCrashDuringSave, which kills it with SIGKILL while it saves snapshots
// in a loop.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(crashHelperEnv) != "1" {
		t.Skip("helper process for TestCrashDuringSave")
	}
	base, _ := strconv.Atoi(os.Getenv(crashBaseEnv))
	s, err := Open(os.Getenv(crashDirEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: open:", err)
		os.Exit(3)
	}
	deadline := time.Now().Add(time.Minute) // in case nobody kills us
	for v := base; time.Now().Before(deadline); v++ {
		if err := s.PutTokens("tk", strconv.Itoa(v), []int32{int32(v), 1, 2}); err != nil {
			fmt.Fprintln(os.Stderr, "helper: put tokens:", err)
			os.Exit(3)
		}
		if err := s.SaveSnapshot(crashName, crashHeader(v), crashState(v)); err != nil {
			fmt.Fprintln(os.Stderr, "helper: save:", err)
			os.Exit(3)
		}
		// Acknowledge only after SaveSnapshot returned.
		fmt.Fprintf(os.Stdout, "saved %d\n", v)
	}
	s.Close()
	os.Exit(0)
}

// TestCrashDuringSave kills a process that saves large snapshots in a loop
// at random moments and checks, after each kill, that the store opens and
// that the snapshot is complete and exactly one of the versions written:
// the floor (the last acknowledged one, or a newer one that an earlier load
// found) or the one that was being written. (This is
// stronger than "valid or discarded": after a process crash the page cache
// survives, so an acknowledged snapshot must never be lost or torn.)
func TestCrashDuringSave(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills child processes")
	}
	dir := t.TempDir()
	const iterations = 10
	// floor is the newest version known to be on disk: the last
	// acknowledged one, or a later one that was in flight when its writer
	// was killed and that a load then found. A later iteration whose writer
	// is killed before it acknowledges anything must still find it.
	floor := -1
	var acked, sawNew, sawOld int
	for it := 0; it < iterations; it++ {
		base := (it + 1) * 100_000
		acks := runAndKill(t, dir, base, it)
		nextAttempt := base + len(acks) // the version possibly in flight when killed
		if len(acks) > 0 {
			floor = acks[len(acks)-1]
			acked += len(acks)
		}

		s, err := Open(dir)
		if err != nil {
			t.Fatalf("iteration %d: Open after kill: %v", it, err)
		}
		if aside, _ := filepath.Glob(filepath.Join(dir, "badger.corrupt-*")); len(aside) > 0 {
			t.Errorf("iteration %d: kill -9 left a database that had to be moved aside", it)
		}
		if tmps, _ := filepath.Glob(filepath.Join(dir, snapshotDirName, "*"+tempMarker+"*")); len(tmps) > 0 {
			t.Errorf("iteration %d: stale temporary files after Open: %v", it, tmps)
		}

		h, state, err := s.LoadSnapshot(crashName)
		switch {
		case err == nil:
		case floor < 0 && errors.Is(err, ErrNoSnapshot):
			// Killed before the first save ever completed.
			t.Logf("iteration %d: no snapshot yet", it)
			s.Close()
			continue
		default:
			t.Fatalf("iteration %d (floor %d, in flight %d): LoadSnapshot: %v", it, floor, nextAttempt, err)
		}
		v, perr := strconv.Atoi(strings.TrimPrefix(h.ModelFingerprint, "crash-v"))
		if perr != nil {
			t.Fatalf("iteration %d: unexpected header %q", it, h.ModelFingerprint)
		}
		switch v {
		case floor:
			sawOld++
		case nextAttempt:
			sawNew++ // renamed into place just before the kill, not yet acknowledged
		default:
			t.Fatalf("iteration %d: loaded version %d; want %d (the floor) or %d (in flight)", it, v, floor, nextAttempt)
		}
		want := crashHeader(v)
		if !slices.Equal(h.Tokens, want.Tokens) || !slices.Equal(h.Segments, want.Segments) || h.Settings != want.Settings {
			t.Fatalf("iteration %d: header of version %d differs from what was written", it, v)
		}
		if !bytes.Equal(state, crashState(v)) {
			t.Fatalf("iteration %d: state of version %d differs from what was written", it, v)
		}
		infos, err := s.Snapshots()
		if err != nil || len(infos) != 1 || infos[0].Name != crashName {
			t.Fatalf("iteration %d: Snapshots = %+v, %v", it, infos, err)
		}
		// Small records may be lost in a crash, but never wrong.
		found := 0
		for _, a := range acks {
			toks, ok, err := s.Tokens("tk", strconv.Itoa(a))
			if err != nil {
				t.Fatalf("iteration %d: Tokens: %v", it, err)
			}
			if ok {
				found++
				if !slices.Equal(toks, []int32{int32(a), 1, 2}) {
					t.Fatalf("iteration %d: wrong tokens for %d: %v", it, a, toks)
				}
			}
		}
		t.Logf("iteration %d: %d saves acknowledged, loaded version %d (floor %d); %d/%d token records kept",
			it, len(acks), v, floor, found, len(acks))
		floor = v
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if acked == 0 {
		t.Fatal("no save was ever acknowledged: the test proved nothing")
	}
	t.Logf("loaded the floor version %d times, the in-flight one %d times", sawOld, sawNew)
}

// runAndKill starts the helper process, kills it with SIGKILL at a random
// moment and returns the versions it acknowledged.
func runAndKill(t *testing.T, dir string, base, it int) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1", crashDirEnv+"="+dir, crashBaseEnv+"="+strconv.Itoa(base))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	var (
		mu    sync.Mutex
		acks  []int
		first = make(chan struct{})
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "saved "); ok {
				n, _ := strconv.Atoi(v)
				mu.Lock()
				acks = append(acks, n)
				if len(acks) == 1 {
					close(first)
				}
				mu.Unlock()
			}
		}
	}()

	if it%2 == 0 {
		// Let at least one save finish, then kill somewhere in the next
		// few saves.
		select {
		case <-first:
		case <-done:
			cmd.Wait()
			killed = true
			t.Fatalf("helper exited early: %s", stderr.String())
		case <-time.After(2 * time.Minute):
			t.Fatal("helper acknowledged no save in 2 minutes")
		}
		time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
	} else {
		// Anywhere from start-up (opening the database) to a few saves in.
		time.Sleep(time.Duration(rand.IntN(600)) * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed = true
	<-done // read every acknowledgement before Wait closes the pipe
	cmd.Wait()
	if strings.Contains(stderr.String(), "helper:") || strings.Contains(stderr.String(), "panic") {
		t.Fatalf("helper failed: %s", stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(acks); i++ {
		if acks[i] != acks[i-1]+1 {
			t.Fatalf("acknowledgements out of order: %v", acks)
		}
	}
	if len(acks) > 0 && acks[0] != base {
		t.Fatalf("first acknowledgement %d, want %d", acks[0], base)
	}
	return slices.Clone(acks)
}

// TestOpenAfterKillWithGarbledMemtable damages the write-ahead memtable file
// that a killed process leaves behind: Open must recover, not panic.
func TestOpenAfterKillWithGarbledMemtable(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills a child process")
	}
	dir := t.TempDir()
	acks := runAndKill(t, dir, 100_000, 0) // waits for one acknowledged save
	if n := garble(t, filepath.Join(dir, badgerDirName), "*.mem"); n == 0 {
		t.Skip("the killed process left no memtable file")
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	for _, a := range acks {
		if toks, ok, err := s.Tokens("tk", strconv.Itoa(a)); err != nil || (ok && !slices.Equal(toks, []int32{int32(a), 1, 2})) {
			t.Fatalf("Tokens(%d) = %v, %v, %v", a, toks, ok, err)
		}
	}
	if err := s.PutTokens("tk", "new", []int32{1}); err != nil {
		t.Fatal(err)
	}
	// The snapshot file does not depend on the database.
	if _, _, err := s.LoadSnapshot(crashName); err != nil {
		t.Fatalf("LoadSnapshot: %v", err)
	}
}
