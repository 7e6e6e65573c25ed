package handoff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"lore/handoff/edit"
)

// CheckResult is the check command's verdict on the edits.
type CheckResult struct {
	Command string  `json:"command"`
	Passed  bool    `json:"passed"`
	Status  string  `json:"status"` // "exit 0", "exit 2", "timed out after 5m0s"
	Output  string  `json:"output"` // the tail of its output
	Seconds float64 `json:"seconds"`
}

// checkOutputMax is how much of the check's output is kept (its tail: the
// errors come last).
const checkOutputMax = 8 << 10

// RunCheck applies the changes to a scratch worktree of the repository at
// root (HEAD, plus the work tree's uncommitted changes and untracked
// files, so it builds what the user has) and runs command there with sh,
// within timeout (0: none). The repository itself is not touched. The
// scratch worktree is removed afterwards.
func RunCheck(ctx context.Context, root, command string, timeout time.Duration, changes []edit.Change, hashes map[string]string) (*CheckResult, error) {
	tmp, err := os.MkdirTemp("", "lore-check-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	scratch := filepath.Join(tmp, "tree")
	if _, err := git(ctx, root, nil, "rev-parse", "--verify", "--quiet", "HEAD"); err != nil {
		return nil, fmt.Errorf("the check command needs a git repository with a commit to make a scratch worktree from (%s has none): commit once, or unset check", root)
	}
	if _, err := git(ctx, root, nil, "worktree", "add", "--detach", "--quiet", scratch, "HEAD"); err != nil {
		return nil, fmt.Errorf("making a scratch worktree for the check: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = git(cctx, root, nil, "worktree", "remove", "--force", scratch)
		_, _ = git(cctx, root, nil, "worktree", "prune")
	}()
	if err := carryWorkTree(ctx, root, scratch); err != nil {
		return nil, fmt.Errorf("copying uncommitted changes into the scratch worktree: %w", err)
	}
	if err := edit.WriteAll(scratch, changes, hashes); err != nil {
		return nil, fmt.Errorf("writing the edits into the scratch worktree: %w", err)
	}

	cctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	start := time.Now()
	cmd := exec.CommandContext(cctx, "sh", "-c", command)
	cmd.Dir = scratch
	// Its own process group, so a timeout ends the build's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	res := &CheckResult{Command: command, Seconds: time.Since(start).Seconds(), Output: out.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case cctx.Err() != nil:
		res.Status = fmt.Sprintf("timed out after %s (check_timeout)", timeout)
	case runErr == nil:
		res.Passed, res.Status = true, "exit 0"
	case errors.As(runErr, &exit):
		res.Status = fmt.Sprintf("exit %d", exit.ExitCode())
	default:
		return nil, fmt.Errorf("running the check command %q: %w", command, runErr)
	}
	return res, nil
}

// carryWorkTree brings the work tree's uncommitted state into the scratch
// worktree: tracked changes as a binary diff, untracked files copied.
func carryWorkTree(ctx context.Context, root, scratch string) error {
	diff, err := git(ctx, root, nil, "diff", "--binary", "HEAD")
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(diff)) > 0 {
		if _, err := git(ctx, scratch, diff, "apply", "--whitespace=nowarn", "-"); err != nil {
			return err
		}
	}
	others, err := git(ctx, root, nil, "ls-files", "-z", "--others", "--exclude-standard")
	if err != nil {
		return err
	}
	for _, p := range strings.Split(string(others), "\x00") {
		if p == "" {
			continue
		}
		src, dst := filepath.Join(root, p), filepath.Join(scratch, p)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

func git(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// tailBuffer keeps the last checkOutputMax bytes written to it.
type tailBuffer struct {
	b       []byte
	dropped bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2*checkOutputMax {
		t.b = append(t.b[:0], t.b[len(t.b)-checkOutputMax:]...)
		t.dropped = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	b := t.b
	if len(b) > checkOutputMax {
		b, t.dropped = b[len(b)-checkOutputMax:], true
	}
	if t.dropped {
		return "[...]\n" + string(b)
	}
	return string(b)
}

var _ io.Writer = (*tailBuffer)(nil)
