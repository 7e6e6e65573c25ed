package cache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"lore/internal/testenv"
)

// These tests fill a real file system (a tmpfs; mounting needs root) under
// a real badger database. Before the store guarded its writes, badger's
// memory-mapped write-ahead log killed the test process with SIGBUS here.

func TestFullDiskStopsWritesAndRecovers(t *testing.T) {
	dir := testenv.Tmpfs(t, 96<<20)
	s := openTest(t, dir)
	if err := s.Put("kept", []byte("before")); err != nil {
		t.Fatal(err)
	}
	if d := s.Disk(); d.Full || d.InMemory || d.Free <= d.Reserve {
		t.Fatalf("disk state on an empty 96 MiB tmpfs: %+v", d)
	}
	fill := testenv.FillDisk(t, dir)

	// Far more than the pages badger had already touched.
	val := bytes.Repeat([]byte("x"), 4096)
	for i := 0; i < 4000; i++ {
		err := s.Put("k"+strconv.Itoa(i), val)
		if !errors.Is(err, ErrDiskFull) {
			t.Fatalf("put %d on a full disk: %v, want ErrDiskFull", i, err)
		}
	}
	var dfe *DiskFullError
	if err := s.Put("k", val); !errors.As(err, &dfe) || dfe.Dir != dir {
		t.Fatalf("error on a full disk: %v", err)
	}
	err := s.SaveSnapshot("snap", SnapshotHeader{Tokens: []int32{1, 2}}, make([]byte, 1000))
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("snapshot on a full disk: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, snapshotDirName, "*")); len(m) != 0 {
		t.Fatalf("a refused snapshot left files: %q", m)
	}
	if err := s.Delete("kept"); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("delete on a full disk: %v", err)
	}
	if v, ok, err := s.Get("kept"); err != nil || !ok || string(v) != "before" {
		t.Fatalf("reading on a full disk: %q %v %v", v, ok, err)
	}
	d := s.Disk()
	if !d.Full || d.InMemory || d.Since.IsZero() || d.Free >= d.Reserve {
		t.Fatalf("disk state when full: %+v", d)
	}

	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	if d := s.Disk(); d.Full || !d.Since.IsZero() {
		t.Fatalf("disk state once space is back: %+v", d)
	}
	if err := s.Put("after", []byte("again")); err != nil {
		t.Fatalf("put once space is back: %v", err)
	}
	if err := s.SaveSnapshot("snap", SnapshotHeader{Tokens: []int32{1, 2}}, make([]byte, 1000)); err != nil {
		t.Fatalf("snapshot once space is back: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	for k, want := range map[string]string{"kept": "before", "after": "again"} {
		if v, ok, err := s.Get(k); err != nil || !ok || string(v) != want {
			t.Fatalf("after reopening, %s = %q %v %v", k, v, ok, err)
		}
	}
}

func TestOpenOnFullDiskKeepsRecordsInMemory(t *testing.T) {
	dir := testenv.Tmpfs(t, 96<<20)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"old", "gone"} {
		if err := s.Put(k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fill := testenv.FillDisk(t, dir)

	// Opening badger would replay its log through a mapping: on a full
	// tmpfs that alone was a SIGBUS.
	s = openTest(t, dir)
	if d := s.Disk(); !d.InMemory || !d.Full {
		t.Fatalf("opened on a full disk: %+v", d)
	}
	if err := s.Put("new", []byte("made in memory")); err != nil {
		t.Fatalf("put in memory: %v", err)
	}
	if err := s.Delete("gone"); err != nil {
		t.Fatalf("delete in memory: %v", err)
	}
	if v, ok, _ := s.Get("new"); !ok || string(v) != "made in memory" {
		t.Fatalf("get in memory: %q %v", v, ok)
	}

	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	if d := s.Disk(); d.InMemory || d.Full {
		t.Fatalf("once space is back: %+v", d)
	}
	check := func(when string) {
		t.Helper()
		for k, want := range map[string]string{"old": "old", "new": "made in memory", "gone": ""} {
			v, ok, err := s.Get(k)
			if err != nil || ok != (want != "") || string(v) != want {
				t.Fatalf("%s: %s = %q %v %v, want %q", when, k, v, ok, err, want)
			}
		}
	}
	check("back on disk")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	check("reopened")
}
