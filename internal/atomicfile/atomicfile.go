// Package atomicfile writes files crash-safely: through a temporary file in
// the same folder, synced, then renamed over the target, so a crash at any
// moment leaves the old file or the new one, never a torn one.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with b, with the given permissions (before umask).
func Write(path string, b []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
