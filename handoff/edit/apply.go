package edit

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Change is one file's new state after Apply.
type Change struct {
	// Path is relative to the repository root, slash-separated, cleaned.
	Path string
	// Old is the file's text before the blocks ("" when it did not
	// exist); New is its text after them ("" when Delete).
	Old, New string
	// Existed: the file existed before (Old is its text). A change with
	// Existed false creates the file.
	Existed bool
	// Delete: the blocks delete the file.
	Delete bool
}

// Match says how a block's SEARCH text was found.
type Match string

const (
	MatchExact    Match = "exact"               // line for line
	MatchTrailing Match = "trailing-whitespace" // ignoring spaces and tabs at line ends
	MatchIndent   Match = "indentation"         // every line shifted by the same leading white space; REPLACE shifted alike
	MatchBlank    Match = "blank-edges"         // after dropping blank first and last lines of SEARCH (and of REPLACE)
	MatchBlanks   Match = "blank-lines"         // SEARCH and the file compared without their blank lines
	MatchElided   Match = "elided"              // pieces around "..." lines, each found once, in order
	MatchCreate   Match = "create"              // empty SEARCH: a new (or empty) file
	MatchWhole    Match = "whole"               // the whole file replaced
	MatchDelete   Match = "delete"              // the file deleted
)

// Applied is a block that applied.
type Applied struct {
	Block int    // Block.Index
	Path  string // cleaned
	// Line is the first line (from 1) of the text the block replaced, in
	// the file as the blocks before it left it; Lines is how many lines
	// it replaced (0 for a creation).
	Line, Lines int
	How         Match
}

// FailKind classifies a failed block.
type FailKind string

const (
	FailPath      FailKind = "path"      // the path is absolute, leaves the repository, or names .git
	FailMissing   FailKind = "missing"   // the file does not exist and SEARCH is not empty
	FailExists    FailKind = "exists"    // SEARCH is empty but the file has text
	FailNoMatch   FailKind = "no-match"  // SEARCH found nowhere
	FailAmbiguous FailKind = "ambiguous" // SEARCH found more than once
	FailElision   FailKind = "elision"   // "..." lines that do not pair up or leave an empty piece
	FailDeleted   FailKind = "deleted"   // an earlier block deleted the file
)

// Failure is a block that did not apply, with what the repair note needs.
type Failure struct {
	Block  int    // Block.Index
	Path   string // as cleaned, or as written when the path was refused
	Kind   FailKind
	Reason string // one sentence naming the problem
	// Nearest is the run of the file's lines most like SEARCH, verbatim,
	// starting at line NearestLine (from 1); "" when none resembles it.
	Nearest     string
	NearestLine int
}

// Result is what Apply made of the blocks.
type Result struct {
	Changes  []Change // by path; files left as they were are not listed
	Applied  []Applied
	Failures []Failure
}

// AppliedIndexes are the indexes of the blocks that applied, in order.
func (r *Result) AppliedIndexes() []int {
	out := make([]int, len(r.Applied))
	for i, a := range r.Applied {
		out[i] = a.Block
	}
	return out
}

// CleanPath checks a path a model wrote and returns it relative to the
// repository root, slash-separated and cleaned. Absolute paths, paths
// that leave the root, and paths into .git are refused. (A symbolic link
// that leads out of the root is WriteAll's to refuse: only the disk
// knows.)
func CleanPath(p string) (string, error) {
	orig := p
	p = strings.ReplaceAll(strings.TrimSpace(p), "\\", "/")
	switch {
	case p == "":
		return "", fmt.Errorf("an empty file path")
	case strings.ContainsRune(p, 0):
		return "", fmt.Errorf("the path %q holds a NUL byte", orig)
	case strings.HasPrefix(p, "/") || len(p) >= 2 && p[1] == ':':
		return "", fmt.Errorf("the path %q is absolute: paths must be relative to the repository root", orig)
	}
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("the path %q leaves the repository", orig)
	}
	for _, part := range strings.Split(c, "/") {
		if strings.EqualFold(part, ".git") {
			return "", fmt.Errorf("the path %q is inside .git, which lore never edits", orig)
		}
	}
	return c, nil
}

// fileState is one file as the blocks so far left it.
type fileState struct {
	path    string
	old     string // original text, LF
	lines   []string
	eol     bool // the last line ends with a line break
	existed bool
	exists  bool
	crlf    bool // every line break of the original is CRLF
	deleted int  // the index of the block that deleted it, 0 if none
}

func (f *fileState) text() string {
	if len(f.lines) == 0 {
		return ""
	}
	s := strings.Join(f.lines, "\n")
	if f.eol {
		s += "\n"
	}
	return s
}

func (f *fileState) setText(s string) {
	f.lines, f.eol = splitText(s)
}

// splitText splits text into lines without their breaks, and says whether
// the last one had one.
func splitText(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	eol := strings.HasSuffix(s, "\n")
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n"), eol
}

// Apply applies the blocks, in order, to files: the current text of every
// existing file the blocks name, by cleaned path (CleanPath); a path
// missing from files is a file that does not exist. Blocks of one file
// apply in turn, each to the text the ones before left. A block's SEARCH
// is found exactly, else ignoring trailing white space, else with every
// line's indentation shifted by one common amount (REPLACE is shifted
// alike), else without a blank first or last line, else with blank
// lines left out or added (the file's blank lines are kept where the
// model's edit does not touch them), else in pieces around "..." lines;
// at each step it must be found exactly once, or the block
// fails: more than one place is never guessed between. A failed block
// changes nothing; the others still apply. A file whose line breaks are
// all CRLF keeps them.
func Apply(blocks []Block, files map[string]string) *Result {
	res := &Result{}
	state := map[string]*fileState{}
	get := func(p string) *fileState {
		if f := state[p]; f != nil {
			return f
		}
		text, ok := files[p]
		f := &fileState{path: p, existed: ok, exists: ok}
		if ok && strings.Contains(text, "\r\n") && strings.Count(text, "\r\n") == strings.Count(text, "\n") {
			f.crlf = true
			text = strings.ReplaceAll(text, "\r\n", "\n")
		}
		f.old = text
		f.setText(text)
		state[p] = f
		return f
	}
	fail := func(b Block, p string, kind FailKind, reason string) {
		res.Failures = append(res.Failures, Failure{Block: b.Index, Path: p, Kind: kind, Reason: reason})
	}
	for _, b := range blocks {
		p, err := CleanPath(b.Path)
		if err != nil {
			fail(b, b.Path, FailPath, err.Error()+"; the block was refused")
			continue
		}
		f := get(p)
		switch {
		case b.Delete:
			if !f.exists {
				fail(b, p, FailMissing, fmt.Sprintf("%s does not exist, so it cannot be deleted", p))
				continue
			}
			f.exists, f.deleted, f.lines, f.eol = false, b.Index, nil, false
			res.Applied = append(res.Applied, Applied{Block: b.Index, Path: p, Line: 1, Lines: 0, How: MatchDelete})
			continue
		case b.Whole:
			n := len(f.lines)
			f.exists, f.deleted = true, 0
			f.setText(b.Replace)
			res.Applied = append(res.Applied, Applied{Block: b.Index, Path: p, Line: 1, Lines: n, How: MatchWhole})
			continue
		}
		if strings.TrimSpace(b.Search) == "" {
			if f.exists && strings.TrimSpace(f.text()) != "" {
				fail(b, p, FailExists, fmt.Sprintf("SEARCH is empty, which creates a file, but %s exists and is not empty: to add to it, SEARCH for the lines the addition goes after and repeat them in REPLACE", p))
				continue
			}
			f.exists, f.deleted = true, 0
			f.setText(b.Replace)
			res.Applied = append(res.Applied, Applied{Block: b.Index, Path: p, Line: 1, How: MatchCreate})
			continue
		}
		if !f.exists {
			reason := fmt.Sprintf("%s does not exist: to create it, leave SEARCH empty and put the whole file in REPLACE", p)
			kind := FailMissing
			if f.deleted > 0 {
				reason = fmt.Sprintf("block %d deleted %s", f.deleted, p)
				kind = FailDeleted
			}
			fail(b, p, kind, reason)
			continue
		}
		search, _ := splitText(b.Search)
		replace, _ := splitText(b.Replace)
		out, m, ferr := applyBlock(f.lines, search, replace)
		if ferr != nil {
			fl := Failure{Block: b.Index, Path: p, Kind: ferr.kind, Reason: ferr.reason}
			if ferr.kind == FailNoMatch {
				fl.NearestLine, fl.Nearest = nearest(f.lines, search)
			}
			res.Failures = append(res.Failures, fl)
			continue
		}
		f.lines = out
		if len(f.lines) == 0 {
			f.eol = false
		}
		res.Applied = append(res.Applied, Applied{Block: b.Index, Path: p, Line: m.line, Lines: m.lines, How: m.how})
	}
	for _, f := range state {
		c := Change{Path: f.path, Old: f.old, Existed: f.existed}
		switch {
		case !f.exists && !f.existed:
			continue
		case !f.exists:
			c.Delete = true
		default:
			c.New = f.text()
			if f.existed && c.New == f.old {
				continue
			}
		}
		if f.crlf {
			c.Old = strings.ReplaceAll(c.Old, "\n", "\r\n")
			c.New = strings.ReplaceAll(c.New, "\n", "\r\n")
		}
		res.Changes = append(res.Changes, c)
	}
	slices.SortFunc(res.Changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return res
}

// blockErr is why a block did not apply.
type blockErr struct {
	kind   FailKind
	reason string
}

// placed is where a block applied.
type placed struct {
	line, lines int // from 1; lines replaced
	how         Match
}

// applyBlock replaces search with replace in lines.
func applyBlock(lines, search, replace []string) ([]string, placed, *blockErr) {
	if slices.ContainsFunc(search, isElision) || slices.ContainsFunc(replace, isElision) {
		return applyElided(lines, search, replace)
	}
	at, n, rep, how, err := locate(lines, 0, search, replace, true)
	if err != nil {
		return nil, placed{}, err
	}
	out := make([]string, 0, len(lines)-n+len(rep))
	out = append(out, lines[:at]...)
	out = append(out, rep...)
	out = append(out, lines[at+n:]...)
	return out, placed{line: at + 1, lines: n, how: how}, nil
}

// isElision is a line that stands for unchanged lines left out.
func isElision(l string) bool {
	t := strings.TrimSpace(l)
	return t == "..." || t == "…"
}

// locate finds search in lines[from:] and returns where (an index of
// lines), how many lines it covers and the replacement as it must be
// inserted there. Each tolerance applies only when the ones before it
// found nothing; the first that finds something must find one place.
// edges allows the blank-edges tolerance.
func locate(lines []string, from int, search, replace []string, edges bool) (int, int, []string, Match, *blockErr) {
	type mode struct {
		how Match
		eq  func(f, s string) bool
	}
	for _, m := range []mode{
		{MatchExact, func(f, s string) bool { return f == s }},
		{MatchTrailing, func(f, s string) bool { return trimRight(f) == trimRight(s) }},
	} {
		var at []int
		for i := from; i+len(search) <= len(lines); i++ {
			if matchAt(lines[i:], search, m.eq) {
				at = append(at, i)
			}
		}
		if len(at) > 1 {
			return 0, 0, nil, "", ambiguous(at)
		}
		if len(at) == 1 {
			rep := replace
			if m.how != MatchExact {
				rep = keepContext(lines[at[0]:at[0]+len(search)], mapStrings(search, trimRight), replace, trimRight)
			}
			return at[0], len(search), rep, m.how, nil
		}
	}
	if at, rep, err := locateIndent(lines, from, search, replace); err != nil || at >= 0 {
		return at, len(search), rep, MatchIndent, err
	}
	if edges {
		s, r := trimBlankEdges(search, replace)
		if len(s) > 0 && len(s) < len(search) {
			at, n, rep, _, err := locate(lines, from, s, r, false)
			if err == nil {
				return at, n, rep, MatchBlank, nil
			}
			if err.kind == FailAmbiguous {
				return 0, 0, nil, "", err
			}
		}
	}
	if at, n, rep, err := locateBlanks(lines, from, search, replace); err != nil || at >= 0 {
		return at, n, rep, MatchBlanks, err
	}
	return 0, 0, nil, "", &blockErr{kind: FailNoMatch, reason: "SEARCH does not match the file: not exactly, nor with other white space at line ends, other indentation, blank lines added or left out"}
}

// locateBlanks finds SEARCH's non-blank lines as consecutive non-blank
// lines of the file (trailing white space ignored), blank lines of either
// side skipped: a blank line the model left out of SEARCH or added to
// it. The place runs from the first matched line to the last; REPLACE,
// less its blank edges, replaces it. It returns -1 when nothing matches.
func locateBlanks(lines []string, from int, search, replace []string) (int, int, []string, *blockErr) {
	var want []string
	for _, s := range search {
		if !isBlank(s) {
			want = append(want, trimRight(s))
		}
	}
	if len(want) == 0 || len(want) == len(search) && !slices.ContainsFunc(lines[from:], isBlank) {
		return -1, 0, nil, nil
	}
	var at []int
	var end int
	for i := from; i < len(lines); i++ {
		if isBlank(lines[i]) || trimRight(lines[i]) != want[0] {
			continue
		}
		t, j := i+1, 1
		for ; j < len(want) && t < len(lines); t++ {
			if isBlank(lines[t]) {
				continue
			}
			if trimRight(lines[t]) != want[j] {
				break
			}
			j++
		}
		if j == len(want) {
			at = append(at, i)
			end = t
		}
	}
	if len(at) > 1 {
		return 0, 0, nil, ambiguous(at)
	}
	if len(at) == 0 {
		return -1, 0, nil, nil
	}
	s, r := trimBlankEdges(search, replace)
	found := lines[at[0]:end]
	// The model's own edit (SEARCH to REPLACE) is replayed on the file's
	// lines: kept lines are the file's, and a blank line only one side
	// has is kept as the file has it, unless it sat between two removed
	// lines or the model inserted blank lines of its own there.
	var out []string
	fp := 0
	prev := byte('=')
	ownBlank := false // the model inserted a blank line since SEARCH's last text line
	for _, o := range diffLines(s, r) {
		if o.kind == '+' {
			out = append(out, r[o.b])
			ownBlank = ownBlank || isBlank(r[o.b])
			continue
		}
		if isBlank(s[o.a]) {
			if fp < len(found) && isBlank(found[fp]) {
				if o.kind == '=' {
					out = append(out, found[fp])
				}
				fp++
			}
			continue
		}
		for fp < len(found) && isBlank(found[fp]) {
			if (prev == '=' || o.kind == '=') && !ownBlank {
				out = append(out, found[fp])
			}
			fp++
		}
		if o.kind == '=' {
			out = append(out, found[fp])
		}
		fp++
		prev, ownBlank = o.kind, false
	}
	return at[0], end - at[0], out, nil
}

func ambiguous(at []int) *blockErr {
	var where []string
	for i, a := range at {
		if i == 5 {
			where = append(where, fmt.Sprintf("and %d more", len(at)-5))
			break
		}
		where = append(where, fmt.Sprint(a+1))
	}
	return &blockErr{kind: FailAmbiguous, reason: fmt.Sprintf("SEARCH matches %d places (lines %s); add lines before or after it so that it matches one", len(at), strings.Join(where, ", "))}
}

func matchAt(lines, search []string, eq func(f, s string) bool) bool {
	for j, s := range search {
		if !eq(lines[j], s) {
			return false
		}
	}
	return true
}

func trimRight(s string) string { return strings.TrimRight(s, " \t\r") }

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// keepContext is the replacement with each line whose key repeats a
// SEARCH line's (keys: SEARCH's lines as the tolerance compared them; in
// order) taken verbatim from the file, so that the tolerance that found
// the place does not rewrite the white space of lines the model meant to
// keep.
func keepContext(found, keys, replace []string, key func(string) string) []string {
	out := make([]string, len(replace))
	j := 0
	for i, r := range replace {
		out[i] = r
		k := key(r)
		for t := j; t < len(keys); t++ {
			if keys[t] == k {
				out[i] = found[t]
				j = t + 1
				break
			}
		}
	}
	return out
}

// locateIndent finds search with every non-blank line's leading white
// space replaced by one common amount: SEARCH's common indentation is cut,
// and each file line must be the same prefix plus the cut line. It
// returns -1 when nothing matches.
func locateIndent(lines []string, from int, search, replace []string) (int, []string, *blockErr) {
	ci := CommonIndent(search)
	ded := make([]string, len(search))
	nonBlank := false
	for j, s := range search {
		ded[j] = trimRight(strings.TrimPrefix(s, ci))
		if !isBlank(s) {
			nonBlank = true
		}
	}
	if !nonBlank {
		return -1, nil, nil
	}
	var at []int
	var pre []string
	for i := from; i+len(search) <= len(lines); i++ {
		if p, ok := indentAt(lines[i:], ded); ok {
			at = append(at, i)
			pre = append(pre, p)
		}
	}
	if len(at) > 1 {
		return 0, nil, ambiguous(at)
	}
	if len(at) == 0 {
		return -1, nil, nil
	}
	found := lines[at[0] : at[0]+len(search)]
	// SEARCH's common indentation ci stands for the file's pre[0]. What
	// they end alike in is the indentation both keep; the model's shift
	// is the rest: its prefix a where the file has b. REPLACE's lines
	// lose a and gain b, so that a line the model indented less than
	// SEARCH (a closing brace) lands where it means.
	common := 0
	for common < len(ci) && common < len(pre[0]) && ci[len(ci)-1-common] == pre[0][len(pre[0])-1-common] {
		common++
	}
	a, b := ci[:len(ci)-common], pre[0][:len(pre[0])-common]
	out := make([]string, len(replace))
	for i, r := range replace {
		switch {
		case isBlank(r):
			out[i] = ""
		case strings.HasPrefix(r, a):
			out[i] = b + r[len(a):]
		default:
			out[i] = b + strings.TrimLeft(r, " \t")
		}
	}
	return at[0], keepContext(found, ded, out, func(s string) string {
		return trimRight(strings.TrimPrefix(s, pre[0]))
	}), nil
}

// indentAt says whether lines start with ded shifted by one prefix of
// white space, and returns it.
func indentAt(lines, ded []string) (string, bool) {
	prefix, set := "", false
	for j, s := range ded {
		f := trimRight(lines[j])
		if s == "" {
			if f != "" {
				return "", false
			}
			continue
		}
		if !strings.HasSuffix(f, s) {
			return "", false
		}
		p := f[:len(f)-len(s)]
		if strings.TrimLeft(p, " \t") != "" {
			return "", false
		}
		if !set {
			prefix, set = p, true
		} else if p != prefix {
			return "", false
		}
	}
	return prefix, set
}

// CommonIndent is the longest run of leading white space all non-blank
// lines share (what a re-indented block is shifted by).
func CommonIndent(lines []string) string {
	ci, set := "", false
	for _, l := range lines {
		if isBlank(l) {
			continue
		}
		ind := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if !set {
			ci, set = ind, true
			continue
		}
		n := 0
		for n < len(ci) && n < len(ind) && ci[n] == ind[n] {
			n++
		}
		ci = ci[:n]
	}
	return ci
}

// trimBlankEdges drops SEARCH's blank first and last lines, and as many
// of REPLACE's as SEARCH had, when REPLACE has them too.
func trimBlankEdges(search, replace []string) ([]string, []string) {
	s, r := search, replace
	for len(s) > 0 && isBlank(s[0]) {
		s = s[1:]
		if len(r) > 0 && isBlank(r[0]) {
			r = r[1:]
		}
	}
	for len(s) > 0 && isBlank(s[len(s)-1]) {
		s = s[:len(s)-1]
		if len(r) > 0 && isBlank(r[len(r)-1]) {
			r = r[:len(r)-1]
		}
	}
	return s, r
}

// applyElided applies a block whose SEARCH and REPLACE leave unchanged
// lines out with "..." lines: they must have the same number of them, one
// piece of SEARCH must be found once in the whole file and each other
// piece once on its side of its neighbour, and each piece is replaced by
// REPLACE's piece at the same position; the lines between pieces stay.
func applyElided(lines, search, replace []string) ([]string, placed, *blockErr) {
	sp, rp := splitElided(search), splitElided(replace)
	if len(sp) != len(rp) {
		return nil, placed{}, &blockErr{kind: FailElision, reason: fmt.Sprintf("SEARCH has %d \"...\" lines and REPLACE %d: they must pair up, one in REPLACE where each in SEARCH stands", len(sp)-1, len(rp)-1)}
	}
	for _, p := range sp {
		if len(p) == 0 || !slices.ContainsFunc(p, func(s string) bool { return !isBlank(s) }) {
			return nil, placed{}, &blockErr{kind: FailElision, reason: "a \"...\" line of SEARCH has no lines of text on one side: SEARCH must start and end with lines of the file, and two \"...\" lines need text between them"}
		}
	}
	type span struct {
		at, n int
		rep   []string
	}
	// The anchor is the first piece found once in the whole file; the
	// pieces after it must each be found once after the one before, the
	// pieces before it once before the one after. Each place is then the
	// only one the order allows: nothing is guessed.
	spans := make([]span, len(sp))
	anchor := -1
	var firstErr *blockErr
	for k, p := range sp {
		at, n, rep, _, err := locate(lines, 0, p, rp[k], false)
		if err == nil {
			spans[k], anchor = span{at, n, rep}, k
			break
		}
		if firstErr == nil {
			firstErr = err
			firstErr.reason = fmt.Sprintf("no piece of the elided SEARCH (around \"...\") is found exactly once; piece %d of %d: %s", k+1, len(sp), err.reason)
		}
	}
	if anchor < 0 {
		return nil, placed{}, firstErr
	}
	for k := anchor + 1; k < len(sp); k++ {
		from := spans[k-1].at + spans[k-1].n
		at, n, rep, _, err := locate(lines, from, sp[k], rp[k], false)
		if err != nil {
			err.reason = fmt.Sprintf("piece %d of %d of the elided SEARCH (around \"...\"), after piece %d: %s", k+1, len(sp), k, err.reason)
			return nil, placed{}, err
		}
		spans[k] = span{at, n, rep}
	}
	for k := anchor - 1; k >= 0; k-- {
		at, n, rep, _, err := locate(lines[:spans[k+1].at], 0, sp[k], rp[k], false)
		if err != nil {
			err.reason = fmt.Sprintf("piece %d of %d of the elided SEARCH (around \"...\"), before piece %d: %s", k+1, len(sp), k+2, err.reason)
			return nil, placed{}, err
		}
		spans[k] = span{at, n, rep}
	}
	var out []string
	prev := 0
	for _, s := range spans {
		out = append(out, lines[prev:s.at]...)
		out = append(out, s.rep...)
		prev = s.at + s.n
	}
	out = append(out, lines[prev:]...)
	first, last := spans[0], spans[len(spans)-1]
	return out, placed{line: first.at + 1, lines: last.at + last.n - first.at, how: MatchElided}, nil
}

func splitElided(lines []string) [][]string {
	var out [][]string
	cur := []string{}
	for _, l := range lines {
		if isElision(l) {
			out = append(out, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, l)
	}
	return append(out, cur)
}

// nearest finds the run of lines most like search: the start that the
// most SEARCH lines (compared without surrounding white space) agree on.
func nearest(lines, search []string) (int, string) {
	where := map[string][]int{}
	for j, s := range search {
		if t := strings.TrimSpace(s); t != "" && !isElision(s) {
			where[t] = append(where[t], j)
		}
	}
	votes := make([]int, len(lines)+len(search))
	best, bestAt := 0, 0
	for i, l := range lines {
		for _, j := range where[strings.TrimSpace(l)] {
			start := i - j + len(search) // offset: starts may be negative
			votes[start]++
			if votes[start] > best || votes[start] == best && start < bestAt {
				best, bestAt = votes[start], start
			}
		}
	}
	if best == 0 {
		return nearestFuzzy(lines, search)
	}
	start := max(bestAt-len(search), 0)
	end := min(bestAt-len(search)+len(search), len(lines))
	if end <= start {
		return 0, ""
	}
	return start + 1, strings.Join(lines[start:end], "\n") + "\n"
}

// After is the texts of files once the result's changes are made: the
// input of the next round when the model repairs failed blocks (apply its
// new blocks to these, then take ChangesBetween the first texts and the
// last).
func (r *Result) After(files map[string]string) map[string]string {
	out := make(map[string]string, len(files)+len(r.Changes))
	for p, t := range files {
		out[p] = t
	}
	for _, c := range r.Changes {
		if c.Delete {
			delete(out, c.Path)
		} else {
			out[c.Path] = c.New
		}
	}
	return out
}

// ChangesBetween is the changes that turn the texts before into those
// after (both by cleaned path; a path missing from one is a file missing
// there), by path: what WriteAll writes after several rounds of blocks.
func ChangesBetween(before, after map[string]string) []Change {
	var out []Change
	for p, old := range before {
		if nw, ok := after[p]; !ok {
			out = append(out, Change{Path: p, Old: old, Existed: true, Delete: true})
		} else if nw != old {
			out = append(out, Change{Path: p, Old: old, New: nw, Existed: true})
		}
	}
	for p, nw := range after {
		if _, ok := before[p]; !ok {
			out = append(out, Change{Path: p, New: nw})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// nearestFuzzy is nearest when no line is equal: the window whose lines
// share the most characters at their ends with SEARCH's, if on average
// half of each; files too large for the search get no suggestion.
func nearestFuzzy(lines, search []string) (int, string) {
	if len(search) == 0 || len(search) > len(lines) || len(lines)*len(search) > 1<<21 {
		return 0, ""
	}
	trim := func(in []string) []string { return mapStrings(in, strings.TrimSpace) }
	fl, sl := trim(lines), trim(search)
	best, bestAt := 0.0, -1
	for i := 0; i+len(sl) <= len(fl); i++ {
		score := 0.0
		for j, s := range sl {
			score += likeness(fl[i+j], s)
		}
		if score > best {
			best, bestAt = score, i
		}
	}
	if bestAt < 0 || best < 0.5*float64(len(sl)) {
		return 0, ""
	}
	return bestAt + 1, strings.Join(lines[bestAt:bestAt+len(search)], "\n") + "\n"
}

// likeness is the share of the longer string that a common head and tail
// cover: 1 for equal strings, 0 for nothing alike.
func likeness(a, b string) float64 {
	n := max(len(a), len(b))
	if n == 0 {
		return 1
	}
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	q := 0
	for q < len(a)-p && q < len(b)-p && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	return float64(p+q) / float64(n)
}
