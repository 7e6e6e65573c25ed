package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lore/config"
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

// TestRotateLogOwnOutput runs a process whose stdout and stderr append to a
// full daemon log, as a client starts a background daemon: RotateLog moves
// that log aside and what the process writes next lands in a fresh one.
func TestRotateLogOwnOutput(t *testing.T) {
	if os.Getenv("LORE_TEST_ROTATE_CHILD") != "" {
		if err := RotateLog(os.Getenv("LORE_TEST_ROTATE_ROOT")); err != nil {
			fmt.Fprintln(os.Stderr, "RotateLog:", err)
			os.Exit(1)
		}
		fmt.Fprint(os.Stdout, "after rotation (stdout)\n")
		fmt.Fprint(os.Stderr, "after rotation (stderr)\n")
		os.Exit(0)
	}
	state, root := t.TempDir(), t.TempDir()
	t.Setenv(config.EnvStateDir, state)
	path := config.LogPath(root)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	old := strings.Repeat("x", logMaxBytes)
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRotateLogOwnOutput$")
	cmd.Env = append(os.Environ(), "LORE_TEST_ROTATE_CHILD=1", "LORE_TEST_ROTATE_ROOT="+root)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if b, _ := os.ReadFile(path + ".1"); string(b) != old {
		t.Errorf("%s.1 holds %d bytes, want the old log's %d", filepath.Base(path), len(b), len(old))
	}
	if b, _ := os.ReadFile(path); string(b) != "after rotation (stdout)\nafter rotation (stderr)\n" {
		t.Errorf("the fresh log holds %q", b)
	}
}
