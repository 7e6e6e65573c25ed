package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"lore/api"
	"lore/ingest/scan"
)

// Summaries read diffs from git itself (the real binary, as the user's
// hooks and tools see the repository), bounded in time and size.
const (
	// gitTimeout bounds one git command of a summary.
	gitTimeout = 15 * time.Second
	// maxDiffRead is how much of a diff is read; a larger one is reduced
	// per file from what was read, and files past it go in by name.
	maxDiffRead = 8 << 20
	// maxDiffBytes caps the diff a question carries, whatever the context
	// (the question itself is capped at api.MaxQuestionBytes).
	maxDiffBytes = 48 << 10
	// maxLogLines caps the commit subjects listed with a range.
	maxLogLines = 50
)

// changes is what a summary is made from.
type changes struct {
	name  string     // what was summarized, as git names it
	files []fileDiff // in git's order
	log   string     // the commits of a range, one subject a line
}

// fileDiff is one file's part of a diff.
type fileDiff struct {
	path   string
	text   string // from its "diff --git" line
	byName string // why only its name goes in ("" = its diff may)
}

// git runs git in the repository and returns at most max bytes of its
// standard output.
func (d *Daemon) git(ctx context.Context, max int, args ...string) (string, error) {
	return d.gitEnv(ctx, nil, max, args...)
}

// gitEnv is git with variables added to the daemon's environment.
func (d *Daemon) gitEnv(ctx context.Context, env []string, max int, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "core.quotepath=off"}, args...)...)
	cmd.Dir = d.opts.Repo
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out := &capped{max: max}
	errb := &capped{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("git %s did not finish within %s", strings.Join(args, " "), gitTimeout)
		}
		return "", fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), d.opts.Repo, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// diffFlags make the diff the same whatever the user's git configuration.
var diffFlags = []string{"--no-color", "--no-ext-diff", "--no-textconv", "-M"}

// workChanges is the working tree against HEAD (staged: the index against
// HEAD, as the next commit would record it; index names another index
// file than the repository's).
func (d *Daemon) workChanges(ctx context.Context, staged bool, index string) (*changes, error) {
	which := []string{"HEAD"}
	name := "HEAD"
	var env []string
	if staged {
		// --cached works before the first commit too (against nothing).
		which, name = []string{"--cached"}, "the staged changes"
		if index != "" {
			if !filepath.IsAbs(index) {
				return nil, invalidParams(fmt.Sprintf("index %q: give the index file's absolute path", index))
			}
			if _, err := os.Stat(index); err != nil {
				return nil, invalidParams(fmt.Sprintf("index %q: %v", index, err))
			}
			env = []string{"GIT_INDEX_FILE=" + index}
		}
	}
	return d.diffChanges(ctx, env, name, which)
}

// rangeChanges resolves rng ("REV" or "A..B") and reads its diff and the
// subjects of its commits.
func (d *Daemon) rangeChanges(ctx context.Context, rng string) (*changes, error) {
	from, to, isRange := strings.Cut(rng, "..")
	if isRange {
		var sym bool
		to, sym = strings.CutPrefix(to, ".")
		if from == "" || to == "" {
			return nil, invalidParams(fmt.Sprintf("range %q: give both ends, as A..B", rng))
		}
		if sym {
			// A...B is what B has since it forked from A, as git diff reads it.
			a, err := d.resolve(ctx, from)
			if err != nil {
				return nil, err
			}
			b, err := d.resolve(ctx, to)
			if err != nil {
				return nil, err
			}
			mb, err := d.git(ctx, 1<<10, "merge-base", a, b)
			if err != nil {
				return nil, invalidParams(fmt.Sprintf("range %q: %s and %s have no common ancestor", rng, from, to))
			}
			from = strings.TrimSpace(mb)
		}
	} else {
		to = rng
	}
	head, err := d.resolve(ctx, to)
	if err != nil {
		return nil, err
	}
	var base string
	if isRange {
		if base, err = d.resolve(ctx, from); err != nil {
			return nil, err
		}
	} else {
		// A commit against its first parent; a root commit against nothing.
		if base, err = d.resolve(ctx, head+"^1"); err != nil {
			if base, err = d.git(ctx, 1<<10, "hash-object", "-t", "tree", "/dev/null"); err != nil {
				return nil, err
			}
			base = strings.TrimSpace(base)
		}
	}
	c, err := d.diffChanges(ctx, nil, rng, []string{base, head})
	if err != nil {
		return nil, err
	}
	logArgs := []string{"log", "--no-color", "--format=%h %s", "-n", fmt.Sprint(maxLogLines)}
	if isRange {
		logArgs = append(logArgs, base+".."+head)
	} else {
		logArgs = []string{"log", "--no-color", "--format=%B", "-n", "1", head}
	}
	if c.log, err = d.git(ctx, 16<<10, logArgs...); err != nil {
		return nil, err
	}
	return c, nil
}

// resolve names a commit by its hash; a name that is no commit, or that
// git would read as an option, is the caller's error.
func (d *Daemon) resolve(ctx context.Context, rev string) (string, error) {
	if rev == "" || strings.HasPrefix(rev, "-") || strings.ContainsAny(rev, " \t\n\x00") {
		return "", invalidParams(fmt.Sprintf("%q is no revision: give a commit, branch or tag, or a range A..B", rev))
	}
	out, err := d.git(ctx, 1<<10, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", invalidParams(fmt.Sprintf("%q is no commit of %s (see `git log`)", rev, d.opts.Repo))
	}
	return strings.TrimSpace(out), nil
}

// diffChanges reads the diff of which (arguments of git diff) split into
// files, each judged by the scan's rules by its name.
func (d *Daemon) diffChanges(ctx context.Context, env []string, name string, which []string) (*changes, error) {
	args := append(append([]string{"diff"}, diffFlags...), which...)
	names, err := d.gitEnv(ctx, env, maxDiffRead, append(append(args[:len(args):len(args)], "--name-only", "-z"), "--")...)
	if err != nil {
		return nil, err
	}
	text, err := d.gitEnv(ctx, env, maxDiffRead, append(args, "--")...)
	if err != nil {
		return nil, err
	}
	c := &changes{name: name}
	paths := strings.Split(strings.TrimSuffix(names, "\x00"), "\x00")
	if names == "" {
		paths = nil
	}
	parts := splitDiff(text)
	judge := scan.Judge(d.opts.Repo, d.opts.Scan)
	for i, p := range paths {
		f := fileDiff{path: p}
		if i < len(parts) && len(parts) == len(paths) {
			f.text = parts[i]
		} else if i == 0 {
			// git split the diff otherwise than it listed the files: the
			// whole diff goes with the first (reduce still cuts it).
			f.text = text
		}
		if f.text == "" && len(text) >= maxDiffRead {
			f.byName = "past the first " + fmt.Sprint(maxDiffRead>>20) + " MiB of the diff"
		}
		if r := judge(p, []byte(f.text)); r != "" && byNameReason(r) {
			f.byName = r
		}
		c.files = append(c.files, f)
	}
	return c, nil
}

// byNameReason says whether a scan's reason to leave a file out of the pack
// also keeps its diff out of a summary: lock, generated, vendored and
// secret files are named only; an ignored or too large file's diff is still
// what the user changed.
func byNameReason(r string) bool {
	for _, p := range []string{scan.ReasonGenerated, scan.ReasonVendored, scan.ReasonSecret, scan.ReasonBinary, scan.ReasonExcluded, scan.ReasonSubmodule} {
		if strings.HasPrefix(r, p) {
			return true
		}
	}
	return false
}

// splitDiff cuts a diff at its "diff --git" lines.
func splitDiff(text string) []string {
	var parts []string
	for len(text) > 0 {
		next := strings.Index(text[1:], "\ndiff --git ")
		if next < 0 {
			parts = append(parts, text)
			break
		}
		parts = append(parts, text[:next+2])
		text = text[next+2:]
	}
	return parts
}

// reduce fits the files' diffs into budget bytes: files named only are
// listed, then each file gets an equal share of what is left, a file
// smaller than its share giving the rest to the others, and a larger one
// cut at a line end.
func reduce(files []fileDiff, budget int) (string, []api.DiffFile) {
	out := make([]api.DiffFile, len(files))
	var named []string
	var order []int
	for i, f := range files {
		out[i].Path = f.path
		if f.byName != "" {
			out[i].Reduced = "by name only: " + f.byName
			named = append(named, f.path+" ("+f.byName+")")
			continue
		}
		order = append(order, i)
	}
	var b strings.Builder
	if len(named) > 0 {
		b.WriteString("Changed, contents left out: " + strings.Join(named, ", ") + "\n")
	}
	left := budget - b.Len()
	sort.SliceStable(order, func(a, c int) bool { return len(files[order[a]].text) < len(files[order[c]].text) })
	kept := make([]string, len(files))
	for n, i := range order {
		share := max(left/(len(order)-n), 0)
		t := files[i].text
		if len(t) > share {
			cut := strings.LastIndexByte(t[:share], '\n')
			if cut < 0 {
				// The file's "diff --git" line names it, even past its share.
				if cut = strings.IndexByte(t, '\n'); cut < 0 {
					cut = len(t) - 1
				}
			}
			out[i].Reduced = fmt.Sprintf("cut to %d of %d bytes", cut+1, len(t))
			t = strings.ToValidUTF8(t[:cut+1], "") + fmt.Sprintf("[... %d more bytes of this file's diff left out]\n", len(t)-cut-1)
		}
		kept[i] = t
		left -= len(t)
	}
	for _, i := range sortedIdx(order) {
		b.WriteString(kept[i])
	}
	return b.String(), out
}

// sortedIdx is idx in ascending order (git's order of the files).
func sortedIdx(idx []int) []int {
	s := append([]int(nil), idx...)
	sort.Ints(s)
	return s
}

// capped keeps the first max bytes written to it and drops the rest.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
