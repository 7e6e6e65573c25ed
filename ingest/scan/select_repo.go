package scan

import (
	"os"
	"path/filepath"
)

// isBareRepo reports whether dir looks like a bare git repository: a HEAD
// file next to objects and refs folders. OpenRepo reports such a folder as
// git.ErrRepositoryNotExists (it has no .git), so Scan asks this to refuse
// it with a clear error instead of scanning the repository's internals.
func isBareRepo(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	for _, sub := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}
