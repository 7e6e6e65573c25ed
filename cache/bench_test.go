package cache

import "testing"

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
