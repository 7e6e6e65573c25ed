package daemon

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"lore/config"
)

// repoPath turns a client's path (absolute, or relative to the repository
// root) into the slash-separated path below the root that the pack uses,
// with every symlink on the way resolved: a path that leads out of the
// repository (a symlink to /etc/passwd, a folder linked to /etc) or into
// git's own files is refused, and a symlink within the repository names
// the file it points at. Whether the pack takes that file is the scan's
// selection to say.
func (d *Daemon) repoPath(p string) (string, error) {
	abs, err := d.absPath(p)
	if err != nil {
		return "", err
	}
	root, err := filepath.EvalSymlinks(d.opts.Repo)
	if err != nil {
		return "", fmt.Errorf("resolving the repository root %s: %w", d.opts.Repo, err)
	}
	real, err := config.ResolveExisting(abs)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", p, err)
	}
	rel, ok := config.Below(root, real)
	if !ok {
		if real != abs {
			return "", fmt.Errorf("%s resolves to %s, not inside the repository %s: lore reads only the repository's own files", p, real, root)
		}
		return "", fmt.Errorf("%s is not inside the repository %s: lore reads only the repository's own files", p, root)
	}
	if insideGit(rel) {
		return "", fmt.Errorf("%s is inside .git: git's own files are not part of lore's context", p)
	}
	return rel, nil
}

// lexicalPath is p below the root as written, symlinks not resolved.
func (d *Daemon) lexicalPath(p string) (string, error) {
	abs, err := d.absPath(p)
	if err != nil {
		return "", err
	}
	rel, ok := config.Below(filepath.Clean(d.opts.Repo), abs)
	if !ok {
		return "", fmt.Errorf("%s is not inside the repository %s", p, d.opts.Repo)
	}
	return rel, nil
}

func (d *Daemon) absPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("no path given")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("%q holds a NUL byte", p)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(d.opts.Repo, p)
	}
	return filepath.Clean(p), nil
}

// insideGit reports whether a path below the root lies in a .git folder
// (the repository's, or a nested repository's).
func insideGit(rel string) bool {
	for _, c := range strings.Split(rel, "/") {
		if c == ".git" {
			return true
		}
	}
	return false
}
