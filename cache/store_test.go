package cache

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTokensRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir())
	cases := map[string][]int32{
		"empty":   {},
		"small":   {1, 2, 3, 0, 255},
		"extreme": {math.MaxInt32, math.MinInt32, -1, 0, 151935},
	}
	big := make([]int32, 100_000)
	for i := range big {
		big[i] = int32(i*7919) % 152064
	}
	cases["big"] = big
	for name, toks := range cases {
		if err := s.PutTokens("tok-A", name, toks); err != nil {
			t.Fatalf("PutTokens %s: %v", name, err)
		}
	}
	for name, toks := range cases {
		got, ok, err := s.Tokens("tok-A", name)
		if err != nil || !ok {
			t.Fatalf("Tokens %s: ok=%v err=%v", name, ok, err)
		}
		if !slices.Equal(got, toks) {
			t.Fatalf("Tokens %s: round trip differs (len %d vs %d)", name, len(got), len(toks))
		}
	}
	// Keyed by tokenizer too, without ambiguity between the two strings.
	if _, ok, _ := s.Tokens("tok-B", "small"); ok {
		t.Fatal("tokens found under another tokenizer")
	}
	if err := s.PutTokens("ab", "c", []int32{1}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Tokens("a", "bc"); ok {
		t.Fatal(`("ab","c") and ("a","bc") collide`)
	}
	if _, _, err := s.Tokens("", "x"); err == nil {
		t.Fatal("empty tokenizer accepted")
	}
	// Compact: the big array takes well under 4 bytes a token.
	if n := len(encodeTokens(big)); n > 3*len(big)+16 {
		t.Fatalf("encoding of %d tokens is %d bytes", len(big), n)
	}

	// Persisted across reopen.
	dir := s.Dir()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, dir)
	got, ok, err := s2.Tokens("tok-A", "big")
	if err != nil || !ok || !slices.Equal(got, big) {
		t.Fatalf("after reopen: ok=%v err=%v equal=%v", ok, err, slices.Equal(got, big))
	}
}

func TestDecodeTokensRejectsGarbage(t *testing.T) {
	good := encodeTokens([]int32{5, -5, 1 << 30})
	for i, b := range [][]byte{
		nil,
		{},
		{2, 0},
		good[:len(good)-1],
		append(slices.Clone(good), 0),
		{1, 0xff, 0xff, 0xff, 0xff, 0x0f}, // huge count
		append([]byte{1, 1}, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), // value > int32
	} {
		if _, err := decodeTokens(b); err == nil {
			t.Errorf("case %d: garbage accepted", i)
		}
	}
}

func TestGenericValues(t *testing.T) {
	s := openTest(t, t.TempDir())
	if _, ok, err := s.Get("config/x"); ok || err != nil {
		t.Fatalf("missing key: ok=%v err=%v", ok, err)
	}
	if err := s.Put("config/x", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("session/b", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("session/a", bytes.Repeat([]byte("t"), 300<<10)); err != nil { // goes to the value log
		t.Fatal(err)
	}
	if v, ok, err := s.Get("config/x"); !ok || err != nil || string(v) != "hello" {
		t.Fatalf("Get: %q %v %v", v, ok, err)
	}
	if v, ok, err := s.Get("session/b"); !ok || err != nil || len(v) != 0 {
		t.Fatalf("Get empty value: %q %v %v", v, ok, err)
	}
	if v, ok, err := s.Get("session/a"); !ok || err != nil || len(v) != 300<<10 {
		t.Fatalf("Get large value: len %d %v %v", len(v), ok, err)
	}
	keys, err := s.Keys("session/")
	if err != nil || !slices.Equal(keys, []string{"session/a", "session/b"}) {
		t.Fatalf("Keys: %q %v", keys, err)
	}
	// User keys cannot reach internal records.
	if err := s.PutTokens("t", "h", []int32{1}); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.Keys(""); len(keys) != 3 {
		t.Fatalf("Keys(\"\") = %q, want the 3 user keys only", keys)
	}
	if err := s.Delete("config/x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("config/x"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, ok, _ := s.Get("config/x"); ok {
		t.Fatal("deleted key still there")
	}
	if err := s.Put("", []byte("x")); err == nil {
		t.Fatal("empty key accepted")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := openTest(t, t.TempDir())
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				h := fmt.Sprintf("h%d-%d", g, i)
				if err := s.PutTokens("tk", h, []int32{int32(g), int32(i)}); err != nil {
					t.Error(err)
					return
				}
				got, ok, err := s.Tokens("tk", h)
				if err != nil || !ok || got[0] != int32(g) || got[1] != int32(i) {
					t.Errorf("Tokens %s: %v %v %v", h, got, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSecondOpenFailsWithoutMovingAside(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	if err := s.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(dir); err == nil {
		s2.Close()
		t.Fatal("second Open of a store in use succeeded")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "badger.corrupt-*")); len(m) != 0 {
		t.Fatalf("a locked database was moved aside: %v", m)
	}
	if v, ok, err := s.Get("k"); !ok || err != nil || string(v) != "v" {
		t.Fatalf("first store damaged: %q %v %v", v, ok, err)
	}
}

// populate fills a store so that its badger directory has a MANIFEST, value
// log and table files, and a snapshot.
func populate(t *testing.T, dir string) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		if err := s.PutTokens("tk", fmt.Sprint(i), []int32{int32(i), 1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 8; i++ { // large values land in the value log
		if err := s.Put(fmt.Sprint("big/", i), bytes.Repeat([]byte{byte(i)}, 100<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveSnapshot("main", SnapshotHeader{ModelFingerprint: "m", Tokens: []int32{1, 2}}, []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// garble overwrites the middle and the start of every file in the badger
// directory whose name matches one of the patterns.
func garble(t *testing.T, bdir string, patterns ...string) int {
	t.Helper()
	n := 0
	for _, p := range patterns {
		files, _ := filepath.Glob(filepath.Join(bdir, p))
		for _, f := range files {
			fi, err := os.Stat(f)
			if err != nil || fi.Size() == 0 {
				continue
			}
			fh, err := os.OpenFile(f, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			junk := bytes.Repeat([]byte("\xde\xad\xbe\xefJUNK"), 512)
			for _, off := range []int64{0, fi.Size() / 3, fi.Size() / 2, max(fi.Size()-int64(len(junk)), 0)} {
				if _, err := fh.WriteAt(junk[:min(int64(len(junk)), fi.Size()-off)], off); err != nil {
					t.Fatal(err)
				}
			}
			fh.Close()
			n++
		}
	}
	return n
}

func TestOpenRecoversFromGarbledDatabase(t *testing.T) {
	// Capture the log to check that a recovery is reported.
	var logBuf syncBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logBuf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	for _, tc := range []struct {
		name      string
		patterns  []string
		wantAside bool
	}{
		{"manifest", []string{"MANIFEST"}, true},
		{"vlog", []string{"*.vlog"}, false},
		{"sst", []string{"*.sst"}, false},
		{"all", []string{"MANIFEST", "*.vlog", "*.sst", "KEYREGISTRY"}, true},
		{"sst-one-byte", []string{"*.sst"}, true},
		{"vlog-one-byte", []string{"*.vlog"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logBuf.Reset()
			dir := t.TempDir()
			populate(t, dir)
			garbleFn := garble
			if strings.HasSuffix(tc.name, "one-byte") {
				garbleFn = flipMiddleByte
			}
			if n := garbleFn(t, filepath.Join(dir, badgerDirName), tc.patterns...); n == 0 {
				t.Fatalf("no files matched %v", tc.patterns)
			}
			s, err := Open(dir)
			if err != nil {
				t.Fatalf("Open on a garbled database: %v", err)
			}
			defer s.Close()
			aside, _ := filepath.Glob(filepath.Join(dir, "badger.corrupt-*"))
			if tc.wantAside && len(aside) != 1 {
				t.Fatalf("moved aside: %v, want one", aside)
			}
			if len(aside) > 0 && !strings.Contains(logBuf.String(), "moved aside") {
				t.Fatalf("recovery not logged; log:\n%s", logBuf.String())
			}
			t.Logf("moved aside: %v", len(aside) > 0)
			// Reads must not panic or return wrong data: either the
			// record is intact or it is gone.
			for i := 0; i < 300; i++ {
				got, ok, err := s.Tokens("tk", fmt.Sprint(i))
				if err == nil && ok && !slices.Equal(got, []int32{int32(i), 1, 2, 3}) {
					t.Fatalf("wrong tokens for %d: %v", i, got)
				}
			}
			for i := 0; i < 8; i++ {
				v, ok, err := s.Get(fmt.Sprint("big/", i))
				if err == nil && ok && !bytes.Equal(v, bytes.Repeat([]byte{byte(i)}, 100<<10)) {
					t.Fatalf("wrong value for big/%d", i)
				}
			}
			// The store works.
			if err := s.PutTokens("tk", "new", []int32{9}); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := s.Tokens("tk", "new"); err != nil || !ok || !slices.Equal(got, []int32{9}) {
				t.Fatalf("after recovery: %v %v %v", got, ok, err)
			}
			// Snapshots live outside badger and survive.
			if _, st, err := s.LoadSnapshot("main"); err != nil || string(st) != "state" {
				t.Fatalf("snapshot after recovery: %q %v", st, err)
			}
			// And the recreated database reopens cleanly.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if _, ok, _ := s2.Tokens("tk", "new"); !ok {
				t.Fatal("record written after recovery lost on reopen")
			}
			if a2, _ := filepath.Glob(filepath.Join(dir, "badger.corrupt-*")); len(a2) != len(aside) {
				t.Fatalf("clean reopen moved the database aside again: %v", a2)
			}
		})
	}
}

// flipMiddleByte inverts one byte in the middle of every matching file.
func flipMiddleByte(t *testing.T, bdir string, patterns ...string) int {
	t.Helper()
	n := 0
	for _, p := range patterns {
		files, _ := filepath.Glob(filepath.Join(bdir, p))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || len(b) == 0 {
				continue
			}
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

func TestCleanDatabaseIsNotMovedAside(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir)
	bdir := filepath.Join(dir, badgerDirName)
	if m, _ := filepath.Glob(filepath.Join(bdir, "*.sst")); len(m) == 0 {
		t.Fatal("populate left no table files")
	}
	if err := checkTables(bdir); err != nil {
		t.Fatalf("checkTables on a clean database: %v", err)
	}
	s := openTest(t, dir)
	if m, _ := filepath.Glob(filepath.Join(dir, "badger.corrupt-*")); len(m) != 0 {
		t.Fatalf("clean database moved aside: %v", m)
	}
	if got, ok, err := s.Tokens("tk", "7"); err != nil || !ok || !slices.Equal(got, []int32{7, 1, 2, 3}) {
		t.Fatalf("Tokens after reopen: %v %v %v", got, ok, err)
	}
}

// TestEmptyValueLogIsDropped: a process killed between creating a value log
// file and sizing it leaves an empty one, which badger cannot open. The store
// drops it and keeps the database rather than moving it aside.
func TestEmptyValueLogIsDropped(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir)
	bdir := filepath.Join(dir, badgerDirName)
	vlogs, _ := filepath.Glob(filepath.Join(bdir, "*.vlog"))
	if len(vlogs) == 0 {
		t.Fatal("populate left no value log")
	}
	empty := filepath.Join(bdir, fmt.Sprintf("%06d.vlog", 999))
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	if m, _ := filepath.Glob(filepath.Join(dir, "badger.corrupt-*")); len(m) != 0 {
		t.Fatalf("database moved aside for an empty value log: %v", m)
	}
	if got, ok, err := s.Tokens("tk", "7"); err != nil || !ok || !slices.Equal(got, []int32{7, 1, 2, 3}) {
		t.Fatalf("Tokens after reopen: %v %v %v", got, ok, err)
	}
}

// TestOrphanTableIsIgnored: a process killed during a flush or compaction
// leaves a table file the manifest does not name, possibly truncated. Badger
// deletes it on open; the store must not take it for damage.
func TestOrphanTableIsIgnored(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir)
	bdir := filepath.Join(dir, badgerDirName)
	ssts, _ := filepath.Glob(filepath.Join(bdir, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("populate left no table files")
	}
	b, err := os.ReadFile(ssts[0])
	if err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(bdir, "000999.sst")
	if err := os.WriteFile(orphan, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	if m, _ := filepath.Glob(filepath.Join(dir, "badger.corrupt-*")); len(m) != 0 {
		t.Fatalf("database moved aside for an orphan table: %v", m)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan table still there: %v", err)
	}
	if got, ok, err := s.Tokens("tk", "7"); err != nil || !ok || !slices.Equal(got, []int32{7, 1, 2, 3}) {
		t.Fatalf("Tokens after reopen: %v %v %v", got, ok, err)
	}
}

func TestOpenRecoversFromNonDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, badgerDirName), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	if err := s.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
}

// TestOpenKeepsLastMovedAside: opening a store leaves only the newest
// moved-aside database (by the time in its name, not its folder's time,
// which is its last write), whether or not this open moves one aside.
func TestOpenKeepsLastMovedAside(t *testing.T) {
	dir := t.TempDir()
	names := []string{"badger.corrupt-1000", "badger.corrupt-2000", "badger.corrupt-3000", "badger.corrupt-3000-1"}
	for i, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Join(p, "inside"), 0o755); err != nil {
			t.Fatal(err)
		}
		// Folder times in the opposite order of the names.
		mt := time.Now().Add(-time.Duration(i) * time.Hour)
		os.Chtimes(p, mt, mt)
	}
	openTest(t, dir)
	m, _ := filepath.Glob(filepath.Join(dir, "badger.corrupt-*"))
	if len(m) != 1 || filepath.Base(m[0]) != "badger.corrupt-3000-1" {
		t.Fatalf("moved-aside databases after Open: %q, want only the newest", m)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// TestCloseAfterFolderVanished: a store whose folder was deleted while open
// closes (with an error) instead of retrying its flush forever.
func TestCloseAfterFolderVanished(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "vanished") {
			t.Fatalf("Close after the folder vanished: %v", err)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing check
		t.Fatal("Close hangs when the store's folder is gone")
	}
}
