package edit

import (
	"fmt"
	"strings"
)

// op is one step of a line diff: a line kept, deleted from a or inserted
// from b.
type op struct {
	kind byte // '=', '-', '+'
	a, b int  // the line's index in a (for '=' and '-') and in b ('=' and '+')
}

// diffLines is Myers' O(ND) diff of two line lists, after their common
// head and tail are cut (the usual edit touches a few lines of a long
// file, so the search runs on little).
func diffLines(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for i := 0; i < pre; i++ {
		ops = append(ops, op{'=', i, i})
	}
	for _, o := range myers(a[pre:len(a)-suf], b[pre:len(b)-suf]) {
		o.a += pre
		o.b += pre
		ops = append(ops, o)
	}
	for i := 0; i < suf; i++ {
		ops = append(ops, op{'=', len(a) - suf + i, len(b) - suf + i})
	}
	return ops
}

// myers is the greedy shortest edit script, keeping each round's frontier
// (O(D²) memory) to walk it back.
func myers(a, b []string) []op {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		var ops []op
		for i := range a {
			ops = append(ops, op{'-', i, 0})
		}
		for j := range b {
			ops = append(ops, op{'+', n, j})
		}
		return ops
	}
	maxD := n + m
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	var endD int
search:
	for d := 0; d <= maxD; d++ {
		snap := make([]int, 2*d+1)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				for kk := -d; kk <= d; kk++ {
					snap[kk+d] = v[off+kk]
				}
				trace = append(trace, snap)
				endD = d
				break search
			}
		}
		for kk := -d; kk <= d; kk++ {
			snap[kk+d] = v[off+kk]
		}
		trace = append(trace, snap)
	}
	// Walk back from (n, m).
	var rev []op
	x, y := n, m
	for d := endD; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return prev[k+d-1] }
		k := x - y
		var pk int
		if k == -d || k != d && at(k-1) < at(k+1) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			x--
			y--
			rev = append(rev, op{'=', x, y})
		}
		if x == px {
			y--
			rev = append(rev, op{'+', x, y})
		} else {
			x--
			rev = append(rev, op{'-', x, y})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, op{'=', x, y})
	}
	ops := make([]op, len(rev))
	for i := range rev {
		ops[i] = rev[len(rev)-1-i]
	}
	return ops
}

// hunk is a run of ops with its context.
type hunk struct{ ops []op }

// hunks groups the changes of ops with ctx lines of context, merging
// groups whose context would touch.
func hunks(ops []op, ctx int) []hunk {
	var out []hunk
	var changes []int
	for i, o := range ops {
		if o.kind != '=' {
			changes = append(changes, i)
		}
	}
	for i := 0; i < len(changes); {
		start := max(changes[i]-ctx, 0)
		j := i
		for j+1 < len(changes) && changes[j+1]-changes[j] <= 2*ctx+1 {
			j++
		}
		end := min(changes[j]+ctx+1, len(ops))
		out = append(out, hunk{ops[start:end]})
		i = j + 1
	}
	return out
}

// UnifiedDiff renders the changes as one patch in git's format: modified,
// new and deleted files, "\ No newline at end of file" where a file ends
// without one, three lines of context. git apply (and patch -p1) accept
// it from the repository root. It is "" without changes.
func UnifiedDiff(changes []Change) string {
	var b strings.Builder
	for _, c := range changes {
		writeFileDiff(&b, c)
	}
	return b.String()
}

func writeFileDiff(b *strings.Builder, c Change) {
	oldText, newText := c.Old, c.New
	if c.Delete {
		newText = ""
	}
	if !c.Existed {
		oldText = ""
	}
	if c.Existed && !c.Delete && oldText == newText {
		return
	}
	fmt.Fprintf(b, "diff --git a/%s b/%s\n", c.Path, c.Path)
	switch {
	case !c.Existed:
		b.WriteString("new file mode 100644\n")
	case c.Delete:
		b.WriteString("deleted file mode 100644\n")
	}
	a, aEOL := splitText(oldText)
	n, nEOL := splitText(newText)
	if len(a) == 0 && len(n) == 0 {
		return // an empty file created or deleted: the header says it all
	}
	if !c.Existed {
		b.WriteString("--- /dev/null\n")
	} else {
		fmt.Fprintf(b, "--- a/%s\n", c.Path)
	}
	if c.Delete {
		b.WriteString("+++ /dev/null\n")
	} else {
		fmt.Fprintf(b, "+++ b/%s\n", c.Path)
	}
	// The last line of a file without a final break differs from the
	// same line with one: mark it so the diff sees the difference.
	const noEOL = "\x00noeol"
	if len(a) > 0 && !aEOL {
		a[len(a)-1] += noEOL
	}
	if len(n) > 0 && !nEOL {
		n[len(n)-1] += noEOL
	}
	ops := diffLines(a, n)
	for _, h := range hunks(ops, 3) {
		oldStart, newStart, oldLen, newLen := h.ops[0].a+1, h.ops[0].b+1, 0, 0
		for _, o := range h.ops {
			if o.kind != '+' {
				oldLen++
			}
			if o.kind != '-' {
				newLen++
			}
		}
		if oldLen == 0 {
			oldStart--
		}
		if newLen == 0 {
			newStart--
		}
		fmt.Fprintf(b, "@@ -%s +%s @@\n", hunkRange(oldStart, oldLen), hunkRange(newStart, newLen))
		for _, o := range h.ops {
			line := ""
			switch o.kind {
			case '-':
				line = a[o.a]
			default:
				line = n[o.b]
			}
			text, cut := strings.CutSuffix(line, noEOL)
			if o.kind == '=' {
				b.WriteByte(' ')
			} else {
				b.WriteByte(o.kind)
			}
			b.WriteString(text)
			b.WriteByte('\n')
			if cut {
				b.WriteString("\\ No newline at end of file\n")
			}
		}
	}
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// BlocksFor is the SEARCH/REPLACE blocks that make a change, as a model
// should write them: one per hunk, with three lines of context, more
// where that is needed for SEARCH to match one place (up to 40 lines
// each side) in the file as the blocks before it leave it. A new file is
// one block with an empty SEARCH, a deletion the DELETE block. Blocks are
// numbered from 1. A file's missing final line break is not expressed
// (blocks are whole lines; Apply keeps the file's). The benchmarks and
// tests build model answers from real commits with it.
func BlocksFor(c Change) []Block {
	if c.Delete {
		return []Block{{Index: 1, Path: c.Path, Delete: true}}
	}
	if !c.Existed || strings.TrimSpace(c.Old) == "" {
		return []Block{{Index: 1, Path: c.Path, Replace: c.New}}
	}
	a, _ := splitText(strings.ReplaceAll(c.Old, "\r\n", "\n"))
	n, _ := splitText(strings.ReplaceAll(c.New, "\r\n", "\n"))
	ops := diffLines(a, n)
	cur := append([]string(nil), a...) // the file as the blocks so far leave it
	shift := 0                         // cur's index of a line of a, less its index in a
	var out []Block
	for _, h := range hunks(ops, 3) {
		aStart := h.ops[0].a // the hunk's first old line
		var oldLines, newLines []string
		for _, o := range h.ops {
			if o.kind != '+' {
				oldLines = append(oldLines, a[o.a])
			}
			if o.kind != '-' {
				newLines = append(newLines, n[o.b])
			}
		}
		at := aStart + shift // in cur
		before, after := 0, 0
		search, replace := oldLines, newLines
		for k := 0; k < 40 && (len(search) == 0 || count(cur, search) != 1); k++ {
			grew := false
			if at-before > 0 {
				before++
				grew = true
			}
			if at+len(oldLines)+after < len(cur) {
				after++
				grew = true
			}
			if !grew {
				break
			}
			search = concat(cur[at-before:at], oldLines, cur[at+len(oldLines):at+len(oldLines)+after])
			replace = concat(cur[at-before:at], newLines, cur[at+len(oldLines):at+len(oldLines)+after])
		}
		out = append(out, Block{Index: len(out) + 1, Path: c.Path, Search: joinLines(search), Replace: joinLines(replace)})
		cur = concat(cur[:at], newLines, cur[at+len(oldLines):])
		shift += len(newLines) - len(oldLines)
	}
	return out
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// count is how many places lines matches exactly, up to 2.
func count(lines, search []string) int {
	n := 0
	for i := 0; i+len(search) <= len(lines) && n < 2; i++ {
		if matchAt(lines[i:], search, func(f, s string) bool { return f == s }) {
			n++
		}
	}
	return n
}

// BlockDiff is a SEARCH/REPLACE block as a patch of one file with one
// hunk in git's format, every SEARCH line in it (as context or removed),
// at line (from 1) as the place hint. Tools that take patches read it;
// lore's benchmark feeds it to git apply --recount as the baseline.
func BlockDiff(b Block, line int) string {
	s, _ := splitText(b.Search)
	r, _ := splitText(b.Replace)
	ops := diffLines(s, r)
	if len(ops) > 0 && ops[len(ops)-1].kind != '=' {
		// git apply takes a hunk without trailing context to belong at the
		// end of the file: when the lines the block adds end like the
		// lines it keeps, put the kept ones last.
		if alt := diffLinesTailFirst(s, r); alt[len(alt)-1].kind == '=' {
			ops = alt
		}
	}
	var body strings.Builder
	for _, o := range ops {
		switch o.kind {
		case '=':
			body.WriteString(" " + s[o.a] + "\n")
		case '-':
			body.WriteString("-" + s[o.a] + "\n")
		case '+':
			body.WriteString("+" + r[o.b] + "\n")
		}
	}
	newLine := line
	if len(r) == 0 {
		newLine--
	}
	return fmt.Sprintf("diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n@@ -%s +%s @@\n%s",
		b.Path, b.Path, b.Path, b.Path, hunkRange(line, len(s)), hunkRange(newLine, len(r)), body.String())
}

// diffLinesTailFirst is diffLines matching the common tail before the
// common head: of two equal runs, the later is the one kept.
func diffLinesTailFirst(a, b []string) []op {
	ra, rb := reversed(a), reversed(b)
	ops := diffLines(ra, rb)
	out := make([]op, len(ops))
	for i, o := range ops {
		o2 := op{kind: o.kind}
		switch o.kind {
		case '=':
			o2.a, o2.b = len(a)-1-o.a, len(b)-1-o.b
		case '-':
			o2.a = len(a) - 1 - o.a
		case '+':
			o2.b = len(b) - 1 - o.b
		}
		out[len(ops)-1-i] = o2
	}
	return out
}

func reversed(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[len(l)-1-i] = s
	}
	return out
}
