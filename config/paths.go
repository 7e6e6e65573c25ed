package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
)

// ResolveExisting resolves the symbolic links of the longest part of the
// clean absolute path p that exists; the rest (a file not saved yet, in
// folders not made yet) follows as written. The daemon and the LSP bridge
// judge a client's path by where it really leads, not by how it is spelled.
func ResolveExisting(p string) (string, error) {
	rest := ""
	for cur := p; ; {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// Below returns p relative to root, slash-separated, when p lies strictly
// inside root.
func Below(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
