package testenv

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// OtherUID is the user the tests play "another local user" with (nobody).
const OtherUID = 65534

// NeedRoot skips a test that must create files owned by, or run processes
// as, another user: only root may.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to act as another user")
	}
}

// AsOtherUser makes cmd run as OtherUID. Go's build and test folders are
// private to the user who builds, so the executable is copied into a folder
// every user may read first.
func AsOtherUser(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	NeedRoot(t)
	dir := SharedDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(cmd.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	exe := filepath.Join(dir, filepath.Base(cmd.Path))
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	cmd.Path = exe
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: OtherUID, Gid: OtherUID}
}

// SharedDir is a new folder in the system's temp folder that, like /tmp
// itself, every user may create files in (mode 1777). Kept short, as socket
// paths are limited to 108 bytes.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return dir
}
