package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"lore/handoff/edit"
	"lore/internal/cmdline"
)

// The perturbations of lore bench apply: what models get wrong when they
// copy lines into SEARCH.
const (
	pertExact        = "exact"          // none: the block as the commit makes it
	pertReindent     = "reindent"       // every line's indentation shifted (common indentation cut, or 4 spaces added)
	pertTrailing     = "trailing-space" // spaces after every other line of SEARCH
	pertBlankAdded   = "blank-added"    // a blank line added to SEARCH and REPLACE (first line, or after the first)
	pertBlankDropped = "blank-dropped"  // an unchanged blank line left out of SEARCH and REPLACE
	pertElided       = "elided"         // the longest run of unchanged lines (2 or more) written as "...", 2 lines of SEARCH kept each side
	pertElidedThin   = "elided-thin"    // the same with 1 line kept each side: often a line like "}" that is everywhere
	pertWrongFile    = "wrong-file"     // the block sent for another file the commit changes
)

var applyPerturbations = []string{pertExact, pertReindent, pertTrailing, pertBlankAdded, pertBlankDropped, pertElided, pertElidedThin, pertWrongFile}

const (
	applyMaxFile  = 256 << 10 // bytes: larger files are left out
	applyMaxFiles = 40        // a commit changing more files (a vendoring, a rename sweep) is left out
)

// applyTally counts one method's outcomes over blocks.
type applyTally struct {
	Correct   int `json:"correct"`    // applied at the right place
	TextExact int `json:"text_exact"` // of those, leaving the file as the commit does
	Refused   int `json:"refused"`
	Wrong     int `json:"wrong"` // applied at a wrong place, or to the wrong file
}

// applyRow is one perturbation: lore's package against git apply --recount.
type applyRow struct {
	Perturbation string     `json:"perturbation"`
	Blocks       int        `json:"blocks"` // blocks it could be applied to
	Lore         applyTally `json:"lore"`
	Git          applyTally `json:"git_apply"`
}

// applyReport is lore bench apply's outcome.
type applyReport struct {
	Repo    string `json:"repo"`
	Commits int    `json:"commits"`
	Files   int    `json:"files"`  // modified text files measured
	Blocks  int    `json:"blocks"` // SEARCH/REPLACE blocks made from them
	// Unbuildable: hunks whose block matched more than once even with 40
	// lines of context (left out of every row).
	Unbuildable int `json:"unbuildable"`
	// SameElsewhere: blocks left out of the wrong-file row because the
	// commit makes the very same block in the other file too (a license
	// header updated everywhere): applying them there is no mistake.
	SameElsewhere int        `json:"same_elsewhere"`
	Rows          []applyRow `json:"rows"`
	// Targeted sums the rows of correctly targeted blocks as models write
	// them (all but wrong-file and elided-thin, whose pieces are often
	// ambiguous in themselves); the goal is Lore.Correct/Blocks >= 0.99,
	// Lore.Wrong 0.
	Targeted applyRow `json:"targeted"`
	Seconds  float64  `json:"seconds"`
}

func runApplyBench(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench apply", subUsage("apply"), stdout)
	repo := fs.String("repo", ".", "repository with history: a work tree or a bare clone")
	n := fs.Int("n", 100, "non-merge commits (newest first) to take blocks from")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return cmdline.UsageErr("-n takes a number of commits, at least 1")
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	prog := cmdline.NewProgress(stderr)
	rep, err := benchApply(ctx, *repo, *n, func(i, n int) { prog.Printf("measured commit %d/%d", i, n) })
	prog.Clear()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(stdout)
	return nil
}

// applyFile is one modified file of a commit.
type applyFile struct {
	path, old, new string
}

// benchApply measures the last n non-merge commits of the
// repository at path.
func benchApply(ctx context.Context, path string, n int, progress func(i, n int)) (*applyReport, error) {
	start := time.Now()
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("lore bench apply needs git: %w", err)
	}
	log, err := gitText(ctx, path, "log", "--no-merges", "--format=%H %P", "-n", strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "lore-bench-apply-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	rep := &applyReport{Repo: path}
	rows := map[string]*applyRow{}
	for _, p := range applyPerturbations {
		rows[p] = &applyRow{Perturbation: p}
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i, line := range lines {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			continue // the root commit
		}
		files, err := applyCommitFiles(ctx, path, f[1], f[0])
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			continue
		}
		rep.Commits++
		if err := measureCommit(ctx, scratch, files, rep, rows); err != nil {
			return nil, err
		}
		if progress != nil {
			progress(i+1, len(lines))
		}
	}
	if rep.Commits == 0 {
		return nil, fmt.Errorf("none of the last %d commits of %s modifies a text file of at most %d KiB", n, path, applyMaxFile>>10)
	}
	for _, p := range applyPerturbations {
		r := rows[p]
		rep.Rows = append(rep.Rows, *r)
		if p == pertWrongFile || p == pertElidedThin {
			continue
		}
		t := &rep.Targeted
		t.Perturbation = "targeted"
		t.Blocks += r.Blocks
		for _, pair := range [][2]*applyTally{{&t.Lore, &r.Lore}, {&t.Git, &r.Git}} {
			pair[0].Correct += pair[1].Correct
			pair[0].TextExact += pair[1].TextExact
			pair[0].Refused += pair[1].Refused
			pair[0].Wrong += pair[1].Wrong
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// applyCommitFiles are the text files the commit modifies (not added or
// deleted: a block has nothing to find in those), with their texts.
func applyCommitFiles(ctx context.Context, repo, parent, commit string) ([]applyFile, error) {
	names, err := gitText(ctx, repo, "diff", "--name-status", "--no-renames", "-z", parent, commit)
	if err != nil {
		return nil, err
	}
	f := strings.Split(strings.TrimRight(names, "\x00"), "\x00")
	var out []applyFile
	for i := 0; i+1 < len(f); i += 2 {
		if f[i] != "M" {
			continue
		}
		if len(out) == applyMaxFiles {
			return nil, nil
		}
		old, err := gitText(ctx, repo, "show", parent+":"+f[i+1])
		if err != nil {
			return nil, err
		}
		new, err := gitText(ctx, repo, "show", commit+":"+f[i+1])
		if err != nil {
			return nil, err
		}
		if len(old) > applyMaxFile || len(new) > applyMaxFile || strings.ContainsRune(old+new, 0) {
			continue
		}
		out = append(out, applyFile{f[i+1], old, new})
	}
	return out, nil
}

// blockTruth is one block at its place: the file before it, where it goes, and
// the file after it.
type blockTruth struct {
	block       edit.Block
	before      string
	line, lines int
	after       string
}

// measureCommit makes the blocks of each file, applies them one at a time
// (each to the file as the commit's blocks before it left it) with every
// perturbation, and counts.
func measureCommit(ctx context.Context, scratch string, files []applyFile, rep *applyReport, rows map[string]*applyRow) error {
	perFile := make([][]blockTruth, len(files))
	for fi, f := range files {
		rep.Files++
		text := f.old
		for _, b := range edit.BlocksFor(edit.Change{Path: f.path, Old: f.old, New: f.new, Existed: true}) {
			rep.Blocks++
			res := edit.Apply([]edit.Block{b}, map[string]string{f.path: text})
			if len(res.Failures) > 0 {
				rep.Unbuildable++
				break // the blocks after it would start from the wrong text
			}
			after := text
			if len(res.Changes) > 0 {
				after = res.Changes[0].New
			}
			a := res.Applied[0]
			perFile[fi] = append(perFile[fi], blockTruth{b, text, a.Line, a.Lines, after})
			text = after
		}
	}
	for fi, ts := range perFile {
		for k, t := range ts {
			for _, p := range applyPerturbations {
				var pb edit.Block
				var ok bool
				target := t.before
				if p == pertWrongFile {
					if len(files) < 2 {
						continue
					}
					oi := (fi + 1) % len(files)
					other := files[oi]
					pb, ok, target = t.block, true, other.old
					pb.Path = other.path
					if slices.ContainsFunc(perFile[oi], func(o blockTruth) bool {
						return o.block.Search == pb.Search && o.block.Replace == pb.Replace
					}) {
						rep.SameElsewhere++
						continue
					}
				} else {
					pb, ok = perturb(p, t.block, k)
				}
				if !ok {
					continue
				}
				row := rows[p]
				row.Blocks++
				tallyOutcome(&row.Lore, loreOutcome(pb, target, t, p == pertWrongFile))
				out, err := gitOutcome(ctx, scratch, pb, target, t, p == pertWrongFile)
				if err != nil {
					return err
				}
				tallyOutcome(&row.Git, out)
			}
		}
	}
	return nil
}

// applyOutcome is one block's fate under one method.
type applyOutcome struct{ applied, right, exact bool }

func tallyOutcome(t *applyTally, o applyOutcome) {
	switch {
	case !o.applied:
		t.Refused++
	case o.right:
		t.Correct++
		if o.exact {
			t.TextExact++
		}
	default:
		t.Wrong++
	}
}

// rightPlace says whether lines [line, line+n) are the block's place: they
// lie within its true place widened by one line each side (a blank line
// added to or left out of SEARCH moves an edge by one) and overlap it.
func rightPlace(line, n int, t blockTruth) bool {
	lo, hi := t.line, t.line+t.lines
	return line >= lo-1 && line+n <= hi+1 && line < hi && line+n > lo
}

func loreOutcome(pb edit.Block, target string, t blockTruth, wrongFile bool) applyOutcome {
	res := edit.Apply([]edit.Block{pb}, map[string]string{pb.Path: target})
	if len(res.Failures) > 0 {
		return applyOutcome{}
	}
	if wrongFile {
		return applyOutcome{applied: true}
	}
	a := res.Applied[0]
	after := target
	if len(res.Changes) > 0 {
		after = res.Changes[0].New
	}
	return applyOutcome{applied: true, right: rightPlace(a.Line, a.Lines, t), exact: after == t.after}
}

var gitHunkAt = regexp.MustCompile(`Hunk #1 succeeded at (\d+)`)

// gitOutcome applies the block as a one-hunk patch (edit.BlockDiff, the
// true line as the hint) with git apply --recount to the file in scratch.
func gitOutcome(ctx context.Context, scratch string, pb edit.Block, target string, t blockTruth, wrongFile bool) (applyOutcome, error) {
	dir := filepath.Join(scratch, "tree")
	os.RemoveAll(dir)
	full := filepath.Join(dir, filepath.FromSlash(pb.Path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return applyOutcome{}, err
	}
	if err := os.WriteFile(full, []byte(target), 0o644); err != nil {
		return applyOutcome{}, err
	}
	patch := filepath.Join(scratch, "block.diff")
	if err := os.WriteFile(patch, []byte(edit.BlockDiff(pb, t.line)), 0o644); err != nil {
		return applyOutcome{}, err
	}
	cmd := exec.CommandContext(ctx, "git", "apply", "--recount", "-v", patch)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+scratch)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return applyOutcome{}, ctx.Err()
		}
		if _, ok := err.(*exec.ExitError); ok {
			return applyOutcome{}, nil // refused
		}
		return applyOutcome{}, fmt.Errorf("git apply: %w", err)
	}
	if wrongFile {
		return applyOutcome{applied: true}, nil
	}
	line := t.line
	if m := gitHunkAt.FindStringSubmatch(out.String()); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	n := strings.Count(pb.Search, "\n")
	b, err := os.ReadFile(full)
	if err != nil {
		return applyOutcome{}, err
	}
	return applyOutcome{applied: true, right: rightPlace(line, n, t), exact: string(b) == t.after}, nil
}

// perturb makes the block as a model might have written it; ok is false
// when the perturbation does not fit the block (no blank line to leave
// out, no run of unchanged lines to elide). k varies where a blank line
// is added.
func perturb(kind string, b edit.Block, k int) (edit.Block, bool) {
	s, r := splitLines(b.Search), splitLines(b.Replace)
	switch kind {
	case pertExact:
	case pertReindent:
		ci := edit.CommonIndent(append(append([]string{}, s...), r...))
		shift := func(l string) string {
			if strings.TrimSpace(l) == "" {
				return l
			}
			if ci != "" {
				return strings.TrimPrefix(l, ci)
			}
			return "    " + l
		}
		s, r = mapLines(s, shift), mapLines(r, shift)
	case pertTrailing:
		for i := range s {
			if i%2 == 0 && strings.TrimSpace(s[i]) != "" {
				s[i] += "  "
			}
		}
	case pertBlankAdded:
		if k%2 == 0 || len(s) < 2 || len(r) == 0 || r[0] != s[0] {
			s, r = append([]string{""}, s...), append([]string{""}, r...)
		} else {
			s = append([]string{s[0], ""}, s[1:]...)
			r = append([]string{r[0], ""}, r[1:]...)
		}
	case pertBlankDropped:
		i, j, ok := keptLine(s, r, func(l string) bool { return strings.TrimSpace(l) == "" })
		if !ok {
			return b, false
		}
		s = append(s[:i:i], s[i+1:]...)
		r = append(r[:j:j], r[j+1:]...)
	case pertElided, pertElidedThin:
		keep := 2
		if kind == pertElidedThin {
			keep = 1
		}
		i, j, n, ok := innerRun(s, r, keep)
		if !ok {
			return b, false
		}
		s = append(append(s[:i:i], "..."), s[i+n:]...)
		r = append(append(r[:j:j], "..."), r[j+n:]...)
	default:
		return b, false
	}
	b.Search, b.Replace = joinLines(s), joinLines(r)
	return b, true
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func joinLines(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}

func mapLines(l []string, f func(string) string) []string {
	out := make([]string, len(l))
	for i := range l {
		out[i] = f(l[i])
	}
	return out
}

// keptLine finds the first line that SEARCH and REPLACE both have
// unchanged (in their common head) and pred accepts, by index in each.
func keptLine(s, r []string, pred func(string) bool) (int, int, bool) {
	for i := 0; i < len(s) && i < len(r) && s[i] == r[i]; i++ {
		if pred(s[i]) {
			return i, i, true
		}
	}
	for i := 1; i <= len(s) && i <= len(r) && s[len(s)-i] == r[len(r)-i]; i++ {
		if pred(s[len(s)-i]) {
			return len(s) - i, len(r) - i, true
		}
	}
	return 0, 0, false
}

// innerRun finds the longest run of at least two lines that SEARCH and
// REPLACE share unchanged, with keep lines of SEARCH (and one of REPLACE)
// on both sides: the lines a model elides. It returns the run's start in
// each and its length.
func innerRun(s, r []string, keep int) (int, int, int, bool) {
	bi, bj, bn := 0, 0, 0
	for i := keep; i < len(s)-keep; i++ {
		for j := 1; j < len(r)-1; j++ {
			n := 0
			for i+n < len(s)-keep && j+n < len(r)-1 && s[i+n] == r[j+n] {
				n++
			}
			if n > bn {
				bi, bj, bn = i, j, n
			}
		}
	}
	return bi, bj, bn, bn >= 2
}

// gitText runs git in repo and returns its standard output.
func gitText(ctx context.Context, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), repo, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (rep *applyReport) print(w io.Writer) {
	fmt.Fprintf(w, "%s: %d commits, %d modified files, %d blocks (%d left out: ambiguous even with 40 lines of context); %.0f s\n",
		rep.Repo, rep.Commits, rep.Files, rep.Blocks, rep.Unbuildable, rep.Seconds)
	if rep.SameElsewhere > 0 {
		fmt.Fprintf(w, "%d wrong-file blocks left out: the commit makes the same block in the other file too\n", rep.SameElsewhere)
	}
	fmt.Fprintf(w, "\n%-16s %6s | %-33s | %-33s\n", "perturbation", "blocks", "lore: right (same text) refused WRONG", "git apply --recount: right refused WRONG")
	for _, r := range append(rep.Rows, rep.Targeted) {
		fmt.Fprintf(w, "%-16s %6d | %6.1f%% (%5.1f%%) %6.1f%% %5d | %6.1f%% (%5.1f%%) %6.1f%% %5d\n", r.Perturbation, r.Blocks,
			pct(r.Lore.Correct, r.Blocks), pct(r.Lore.TextExact, r.Blocks), pct(r.Lore.Refused, r.Blocks), r.Lore.Wrong,
			pct(r.Git.Correct, r.Blocks), pct(r.Git.TextExact, r.Blocks), pct(r.Git.Refused, r.Blocks), r.Git.Wrong)
	}
	fmt.Fprintln(w, "\nright: applied at the block's place; same text: and the file is what the commit made it; WRONG: applied elsewhere")
	fmt.Fprintln(w, "(for wrong-file blocks, any application is wrong); targeted: all rows but wrong-file and elided-thin;")
	fmt.Fprintln(w, "goal: lore right >= 99% of the targeted blocks, WRONG 0")
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
