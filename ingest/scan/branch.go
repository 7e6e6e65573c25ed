package scan

import (
	"os"
	"path/filepath"
	"strings"
)

// Branch names what the work tree at root has checked out: the branch's
// short name, "detached-" and the commit for a detached HEAD, or "" outside
// git (or when HEAD cannot be read).
func Branch(root string) string {
	gitDir, _, err := gitDirs(root)
	if err != nil {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(b))
	if ref, ok := strings.CutPrefix(head, "ref:"); ok {
		ref = strings.TrimSpace(ref)
		return strings.TrimPrefix(ref, "refs/heads/")
	}
	if len(head) >= 12 {
		return "detached-" + head[:12]
	}
	return ""
}
