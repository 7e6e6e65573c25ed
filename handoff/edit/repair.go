package edit

import (
	"fmt"
	"strings"
)

// RepairNote is the message that goes back to the model when blocks
// failed, as aider sends it: each failed block by number and path with
// the reason and the file's nearest lines, and the blocks that applied,
// which must not be sent again. It is "" when no block failed.
func RepairNote(r *Result) string {
	if len(r.Failures) == 0 {
		return ""
	}
	var b strings.Builder
	n := len(r.Failures)
	fmt.Fprintf(&b, "%d of your edit blocks failed to apply.\n", n)
	if len(r.Applied) > 0 {
		fmt.Fprintf(&b, "%s applied: do not send %s again.\n", plural(len(r.Applied), "Block", "Blocks")+" "+joinInts(r.AppliedIndexes()), plural(len(r.Applied), "it", "them"))
	}
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "\n## Block %d for path %s did not apply\n%s\n", f.Block, f.Path, f.Reason)
		if f.Nearest != "" {
			last := f.NearestLine + strings.Count(f.Nearest, "\n") - 1
			fence := fenceFor(f.Nearest)
			fmt.Fprintf(&b, "The nearest lines of %s (lines %d to %d, as the file is now) are:\n%s\n%s%s\n", f.Path, f.NearestLine, last, fence, f.Nearest, fence)
		}
	}
	b.WriteString("\nSend new blocks for the failed ones only. Copy each SEARCH section exactly, line for line, from the file as it is now")
	if len(r.Applied) > 0 {
		b.WriteString(" (with the applied blocks' changes in it)")
	}
	b.WriteString(", with enough lines to match one place.\n")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// joinInts writes 1, 2 and 3.
func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// fenceFor is a backtick fence longer than any run of backticks that
// starts a line of text.
func fenceFor(text string) string {
	n := 3
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimLeft(l, " \t")
		k := len(t) - len(strings.TrimLeft(t, "`"))
		if k >= n {
			n = k + 1
		}
	}
	return strings.Repeat("`", n)
}
