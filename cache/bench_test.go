package cache

import (
	"strconv"
	"testing"
)

// Save and load of a 64 MiB state: the cost of persisting and restoring a
// KV snapshot (write + fsync + rename, and read + both checksums).
func BenchmarkSnapshotSave(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	state := testState(64<<20, 7)
	b.SetBytes(int64(len(state)))
	for b.Loop() {
		if err := s.SaveSnapshot("bench", testHeader(), state); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSnapshotLoad(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	state := testState(64<<20, 7)
	if err := s.SaveSnapshot("bench", testHeader(), state); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(state)))
	for b.Loop() {
		if _, _, err := s.LoadSnapshot("bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// A 1 KiB record put, as the token cache writes them: the free-space check
// before each write (a statfs) is part of it.
func BenchmarkPut(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := make([]byte, 1024)
	i := 0
	for b.Loop() {
		i++
		if err := s.Put("k"+strconv.Itoa(i%4096), val); err != nil {
			b.Fatal(err)
		}
	}
}

// The free-space measurement alone.
func BenchmarkFreeBytes(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, err := freeBytes(dir); err != nil {
			b.Fatal(err)
		}
	}
}
