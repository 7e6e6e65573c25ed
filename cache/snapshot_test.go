package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func testHeader() SnapshotHeader {
	return SnapshotHeader{
		ModelFingerprint: "model-abc",
		Settings:         Settings{ContextSize: 32768, FlashAttention: true, KVType: "f16", Sequences: 4},
		Tokens:           []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		Segments:         []SegmentMark{{"c0", 3}, {"c1", 7}, {"c2", 10}},
	}
}

func testState(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31) ^ seed
	}
	return b
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir())
	h := testHeader()
	state := testState(3<<20+17, 1)
	before := time.Now().Add(-time.Second)
	if err := s.SaveSnapshot("main", h, state); err != nil {
		t.Fatal(err)
	}
	got, gotState, err := s.LoadSnapshot("main")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotState, state) {
		t.Fatal("state differs")
	}
	sum := sha256.Sum256(state)
	if got.Format != SnapshotFormat || got.ModelFingerprint != h.ModelFingerprint || got.Settings != h.Settings ||
		!slices.Equal(got.Tokens, h.Tokens) || !slices.Equal(got.Segments, h.Segments) ||
		got.StateSize != int64(len(state)) || got.StateSHA256 != hex.EncodeToString(sum[:]) || got.Created.Before(before) {
		t.Fatalf("header differs: %+v", got)
	}

	// The file layout is the documented one.
	raw, err := os.ReadFile(s.SnapshotPath("main"))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw[:8]) != "LOREKV01" {
		t.Fatalf("magic %q", raw[:8])
	}
	if tail := sha256.Sum256(raw[:len(raw)-32]); !bytes.Equal(tail[:], raw[len(raw)-32:]) {
		t.Fatal("trailer is not the sha256 of the rest")
	}
	if !bytes.Equal(raw[len(raw)-32-len(state):len(raw)-32], state) {
		t.Fatal("state is not stored just before the trailer")
	}

	// Replace it.
	state2 := testState(1000, 2)
	h2 := testHeader()
	h2.ModelFingerprint = "model-2"
	if err := s.SaveSnapshot("main", h2, state2); err != nil {
		t.Fatal(err)
	}
	got, gotState, err = s.LoadSnapshot("main")
	if err != nil || !bytes.Equal(gotState, state2) || got.ModelFingerprint != "model-2" {
		t.Fatalf("after replace: %v %q", err, got.ModelFingerprint)
	}

	// Empty state is fine.
	if err := s.SaveSnapshot("empty", SnapshotHeader{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, st, err := s.LoadSnapshot("empty"); err != nil || len(st) != 0 {
		t.Fatalf("empty state: %v %d", err, len(st))
	}

	// Survives reopen.
	dir := s.Dir()
	s.Close()
	s2 := openTest(t, dir)
	if _, st, err := s2.LoadSnapshot("main"); err != nil || !bytes.Equal(st, state2) {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestSnapshotMissingAndNames(t *testing.T) {
	s := openTest(t, t.TempDir())
	if _, _, err := s.LoadSnapshot("nope"); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("missing snapshot: %v", err)
	}
	for _, bad := range []string{"", "..", "a/b", "../x", "a..b", "x y", "a\x00", "ü", "a\\b", strings.Repeat("a", 201)} {
		if err := s.SaveSnapshot(bad, SnapshotHeader{}, nil); err == nil {
			t.Errorf("SaveSnapshot(%q) accepted", bad)
		}
		if _, _, err := s.LoadSnapshot(bad); err == nil || errors.Is(err, ErrNoSnapshot) {
			t.Errorf("LoadSnapshot(%q): %v", bad, err)
		}
		if err := s.DeleteSnapshot(bad); err == nil {
			t.Errorf("DeleteSnapshot(%q) accepted", bad)
		}
	}
	for _, good := range []string{"a", "main", "seq-0_v1.2", "x.tmp-y", ".hidden", strings.Repeat("a", 200)} {
		if err := s.SaveSnapshot(good, SnapshotHeader{}, []byte("s")); err != nil {
			t.Errorf("SaveSnapshot(%q): %v", good, err)
		}
	}
	// A name that looks like a temporary file is not removed on Open.
	dir := s.Dir()
	s.Close()
	s2 := openTest(t, dir)
	if _, _, err := s2.LoadSnapshot("x.tmp-y"); err != nil {
		t.Fatalf("snapshot named x.tmp-y: %v", err)
	}
}

func TestSnapshotHeaderChecks(t *testing.T) {
	s := openTest(t, t.TempDir())
	h := testHeader()
	h.StateSize = 5
	if err := s.SaveSnapshot("a", h, []byte("123")); err == nil {
		t.Fatal("StateSize mismatch accepted")
	}
	h = testHeader()
	h.Segments = []SegmentMark{{"c0", 5}, {"c1", 3}}
	if err := s.SaveSnapshot("a", h, nil); err == nil {
		t.Fatal("decreasing segment ends accepted")
	}
	h.Segments = []SegmentMark{{"c0", 11}}
	if err := s.SaveSnapshot("a", h, nil); err == nil {
		t.Fatal("segment end past the tokens accepted")
	}
}

// saveAndCorrupt saves a snapshot, lets mutate change the file's bytes, and
// returns the error LoadSnapshot gives afterwards.
func saveAndCorrupt(t *testing.T, s *Store, mutate func([]byte) []byte) error {
	t.Helper()
	if err := s.SaveSnapshot("main", testHeader(), testState(64<<10, 3)); err != nil {
		t.Fatal(err)
	}
	p := s.SnapshotPath("main")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, mutate(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	_, st, err := s.LoadSnapshot("main")
	if err != nil && st != nil {
		t.Fatal("state returned with an error")
	}
	return err
}

func wantCorrupt(t *testing.T, s *Store, err error, reason string) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Name != "main" {
		t.Fatalf("want *CorruptError, got %v", err)
	}
	if !strings.Contains(ce.Reason, reason) {
		t.Fatalf("reason %q, want it to mention %q", ce.Reason, reason)
	}
	if !strings.Contains(err.Error(), "discarded") {
		t.Fatalf("error text %q does not say the snapshot was discarded", err)
	}
	if _, err := os.Stat(s.SnapshotPath("main")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("corrupt snapshot file still there: %v", err)
	}
	if _, _, err := s.LoadSnapshot("main"); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("after discard: %v", err)
	}
	infos, err := s.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if in.Name == "main" {
			t.Fatal("corrupt snapshot still listed")
		}
	}
	if _, ok, _ := s.get([]byte(prefixSnapshot + "main")); ok {
		t.Fatal("index record of a discarded snapshot still there")
	}
}

func TestSnapshotCorruption(t *testing.T) {
	s := openTest(t, t.TempDir())

	t.Run("flip state bytes", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte {
			m := len(b) / 2
			for i := m; i < m+16; i++ {
				b[i] ^= 0x5a
			}
			return b
		})
		wantCorrupt(t, s, err, "checksum")
	})
	t.Run("flip one header byte", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte {
			i := bytes.Index(b, []byte("model-abc"))
			b[i] = 'M' // still valid JSON; only the checksum catches it
			return b
		})
		wantCorrupt(t, s, err, "checksum")
	})
	t.Run("flip trailer", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
		wantCorrupt(t, s, err, "checksum")
	})
	t.Run("truncated", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte { return b[:len(b)-1000] })
		wantCorrupt(t, s, err, "")
	})
	t.Run("truncated to nothing", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte { return b[:0] })
		wantCorrupt(t, s, err, "truncated")
	})
	t.Run("truncated in header", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte { return b[:40] })
		wantCorrupt(t, s, err, "")
	})
	t.Run("extended", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte { return append(b, 0) })
		wantCorrupt(t, s, err, "")
	})
	t.Run("bad magic", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte { b[7] = '2'; return b })
		wantCorrupt(t, s, err, "magic")
	})
	t.Run("huge header length", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte { copy(b[8:12], []byte{0xff, 0xff, 0xff, 0x7f}); return b })
		wantCorrupt(t, s, err, "header length")
	})
	t.Run("garbage header", func(t *testing.T) {
		err := saveAndCorrupt(t, s, func(b []byte) []byte { b[12] = '!'; return b })
		wantCorrupt(t, s, err, "header")
	})
	// The remaining cases carry correct checksums, so only the structural
	// checks can catch them.
	rewrite := func(edit func(*SnapshotHeader), state []byte) func([]byte) []byte {
		return func([]byte) []byte {
			h := testHeader()
			sum := sha256.Sum256(state)
			h.Format, h.StateSize, h.StateSHA256 = SnapshotFormat, int64(len(state)), hex.EncodeToString(sum[:])
			edit(&h)
			hdr, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := writeSnapshot(&buf, hdr, state); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
	}
	t.Run("control: rewritten file is valid", func(t *testing.T) {
		if err := saveAndCorrupt(t, s, rewrite(func(*SnapshotHeader) {}, []byte("state"))); err != nil {
			t.Fatalf("a correctly rewritten file failed: %v", err)
		}
	})
	t.Run("other format version", func(t *testing.T) {
		err := saveAndCorrupt(t, s, rewrite(func(h *SnapshotHeader) { h.Format = 2 }, []byte("state")))
		wantCorrupt(t, s, err, "format version 2")
	})
	t.Run("wrong state checksum in header", func(t *testing.T) {
		err := saveAndCorrupt(t, s, rewrite(func(h *SnapshotHeader) {
			h.StateSHA256 = strings.Repeat("0", 64)
		}, []byte("state")))
		wantCorrupt(t, s, err, "state checksum")
	})
	t.Run("wrong state size in header", func(t *testing.T) {
		err := saveAndCorrupt(t, s, rewrite(func(h *SnapshotHeader) { h.StateSize = 4 }, []byte("state")))
		wantCorrupt(t, s, err, "state bytes")
	})
	t.Run("segment past tokens", func(t *testing.T) {
		err := saveAndCorrupt(t, s, rewrite(func(h *SnapshotHeader) { h.Segments[2].End = 11 }, []byte("state")))
		wantCorrupt(t, s, err, "segment")
	})
}

func TestStaleTempsRemovedOnOpen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	if err := s.SaveSnapshot("main", testHeader(), []byte("state")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	snap := filepath.Join(dir, snapshotDirName)
	stale := filepath.Join(snap, "main.kv.tmp-12345")
	if err := os.WriteFile(stale, []byte("half a snapshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, dir)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temporary file survived Open: %v", err)
	}
	if _, _, err := s2.LoadSnapshot("main"); err != nil {
		t.Fatal(err)
	}
	infos, _ := s2.Snapshots()
	if len(infos) != 1 {
		t.Fatalf("Snapshots: %+v", infos)
	}
}

func TestSnapshotsIndex(t *testing.T) {
	s := openTest(t, t.TempDir())
	if infos, err := s.Snapshots(); err != nil || len(infos) != 0 {
		t.Fatalf("empty store: %v %v", infos, err)
	}
	ha := testHeader()
	if err := s.SaveSnapshot("a", ha, testState(1000, 1)); err != nil {
		t.Fatal(err)
	}
	hb := testHeader()
	hb.ModelFingerprint = "model-b"
	hb.Tokens = hb.Tokens[:4]
	hb.Segments = hb.Segments[:1]
	if err := s.SaveSnapshot("b", hb, testState(2000, 2)); err != nil {
		t.Fatal(err)
	}
	infos, err := s.Snapshots()
	if err != nil || len(infos) != 2 {
		t.Fatalf("Snapshots: %+v %v", infos, err)
	}
	a, b := infos[0], infos[1]
	fi, _ := os.Stat(s.SnapshotPath("b"))
	if a.Name != "a" || b.Name != "b" || b.Size != fi.Size() || b.Tokens != 4 || b.ModelFingerprint != "model-b" ||
		a.Tokens != 10 || b.Created.IsZero() || !b.LastUsed.Equal(b.Created) {
		t.Fatalf("Snapshots: %+v", infos)
	}

	// Loading updates LastUsed.
	time.Sleep(10 * time.Millisecond)
	if _, _, err := s.LoadSnapshot("a"); err != nil {
		t.Fatal(err)
	}
	infos, _ = s.Snapshots()
	if !infos[0].LastUsed.After(infos[0].Created) {
		t.Fatalf("LastUsed not updated: %+v", infos[0])
	}

	// A file without an index record (e.g. the index was lost) is listed
	// from its header; a record without a file is dropped.
	if err := s.del([]byte(prefixSnapshot + "b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.SnapshotPath("a")); err != nil {
		t.Fatal(err)
	}
	infos, err = s.Snapshots()
	if err != nil || len(infos) != 1 || infos[0].Name != "b" || infos[0].Tokens != 4 || infos[0].ModelFingerprint != "model-b" ||
		!infos[0].Created.Equal(b.Created) {
		t.Fatalf("after reconciliation: %+v %v", infos, err)
	}
	if _, ok, _ := s.get([]byte(prefixSnapshot + "a")); ok {
		t.Fatal("record of a vanished file kept")
	}
	if _, ok, _ := s.get([]byte(prefixSnapshot + "b")); !ok {
		t.Fatal("record of an unindexed file not rebuilt")
	}

	if err := s.DeleteSnapshot("b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSnapshot("b"); err != nil {
		t.Fatalf("deleting a missing snapshot: %v", err)
	}
	if infos, _ := s.Snapshots(); len(infos) != 0 {
		t.Fatalf("after delete: %+v", infos)
	}
	if _, _, err := s.LoadSnapshot("b"); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("load after delete: %v", err)
	}
}

func TestValidPrefix(t *testing.T) {
	h := testHeader() // chains c0 c1 c2, ends 3 7 10
	for _, tc := range []struct {
		name         string
		chains       []string
		segs, tokens int
	}{
		{"identical", []string{"c0", "c1", "c2"}, 3, 10},
		{"appended", []string{"c0", "c1", "c2", "c3"}, 3, 10},
		{"last changed", []string{"c0", "c1", "x"}, 2, 7},
		{"middle changed", []string{"c0", "x", "c2"}, 1, 3},
		{"first changed", []string{"x", "c1", "c2"}, 0, 0},
		{"shorter", []string{"c0"}, 1, 3},
		{"none", nil, 0, 0},
	} {
		segs, toks := ValidPrefix(h, tc.chains)
		if segs != tc.segs || toks != tc.tokens {
			t.Errorf("%s: ValidPrefix = %d, %d; want %d, %d", tc.name, segs, toks, tc.segs, tc.tokens)
		}
	}
	if segs, toks := ValidPrefix(SnapshotHeader{}, []string{"c0"}); segs != 0 || toks != 0 {
		t.Errorf("empty header: %d, %d", segs, toks)
	}
}
