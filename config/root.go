package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FindRoot walks up from dir ("" for the working directory) to the root of
// the enclosing git work tree: the nearest folder holding a .git entry (a directory, or a file as in linked
// worktrees and submodules). When there is none it returns dir itself. The
// result is absolute with symlinks resolved. It fails only when dir does not
// exist or is not a directory.
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	abs, err = filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("find repository root: %s does not exist", dir)
		}
		return "", fmt.Errorf("find repository root: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("find repository root: %s is not a directory", dir)
	}
	for cur := abs; ; {
		if _, err := os.Lstat(filepath.Join(cur, ".git")); err == nil {
			return cur, nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		cur = parent
	}
}
