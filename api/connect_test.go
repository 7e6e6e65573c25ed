package api

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRotateLog(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "daemon.log")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		b, _ := os.ReadFile(p)
		return string(b)
	}
	write(log, "small")
	rotateLog(log, 10, 3)
	if read(log) != "small" {
		t.Fatal("a small log was rotated")
	}
	write(log, "first run, long enough")
	rotateLog(log, 10, 3)
	write(log, "second run, long enough")
	rotateLog(log, 10, 3)
	write(log, "third run, long enough")
	rotateLog(log, 10, 3)
	write(log, "fourth run, long enough")
	rotateLog(log, 10, 3)
	if _, err := os.Stat(log); !os.IsNotExist(err) {
		t.Fatal("the current log was not moved aside")
	}
	if read(log+".1") != "fourth run, long enough" || read(log+".2") != "third run, long enough" || read(log+".3") != "second run, long enough" {
		t.Fatalf("rotation: %q %q %q", read(log+".1"), read(log+".2"), read(log+".3"))
	}
	if _, err := os.Stat(log + ".4"); !os.IsNotExist(err) {
		t.Fatal("more than 3 old logs kept")
	}
}
