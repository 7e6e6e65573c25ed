package scan

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// readIgnoreFile parses one gitignore-style file whose patterns apply below
// domain (path components relative to the root; nil for the whole tree).
// A missing or unreadable file yields no patterns, as git does.
func readIgnoreFile(file string, domain []string) []gitignore.Pattern {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}

// repoExcludes returns the patterns that apply to a whole git work tree
// besides its .gitignore files, lowest priority first: the system and global
// core.excludesFile (or $XDG_CONFIG_HOME/git/ignore when the global one is not
// set, as git does), then $GIT_COMMON_DIR/info/exclude.
func repoExcludes(root string) []gitignore.Pattern {
	var ps []gitignore.Pattern
	rootFS := osfs.New("/")
	if sys, err := gitignore.LoadSystemPatterns(rootFS); err == nil {
		ps = append(ps, sys...)
	}
	global, err := gitignore.LoadGlobalPatterns(rootFS)
	if err == nil && len(global) > 0 {
		ps = append(ps, global...)
	} else if xdg := xdgIgnoreFile(); xdg != "" {
		ps = append(ps, readIgnoreFile(xdg, nil)...)
	}
	if common := gitCommonDir(root); common != "" {
		ps = append(ps, readIgnoreFile(filepath.Join(common, "info", "exclude"), nil)...)
	}
	return ps
}

func xdgIgnoreFile() string {
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "git", "ignore")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".config", "git", "ignore")
	}
	return ""
}

// gitCommonDir resolves root/.git to the repository's common directory: the
// .git folder itself, or for a linked worktree (.git is a file holding
// "gitdir: ...") the main repository's folder named by its commondir file.
func gitCommonDir(root string) string {
	dotgit := filepath.Join(root, ".git")
	fi, err := os.Stat(dotgit)
	if err != nil {
		return ""
	}
	if fi.IsDir() {
		return dotgit
	}
	b, err := os.ReadFile(dotgit)
	if err != nil {
		return ""
	}
	line := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	gitdir, ok := strings.CutPrefix(line, "gitdir:")
	if !ok {
		return ""
	}
	gitdir = strings.TrimSpace(gitdir)
	if !filepath.IsAbs(gitdir) {
		gitdir = filepath.Join(root, gitdir)
	}
	if c, err := os.ReadFile(filepath.Join(gitdir, "commondir")); err == nil {
		common := strings.TrimSpace(string(c))
		if !filepath.IsAbs(common) {
			common = filepath.Join(gitdir, common)
		}
		return filepath.Clean(common)
	}
	return gitdir
}
