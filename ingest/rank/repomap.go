package rank

import (
	"sort"
	"strconv"
	"strings"

	"lore/ingest"
)

// repoMapItem is one line a repo map may show: a definition of the file at
// rank position file.
type repoMapItem struct {
	file  int
	line  int
	text  string // the signature, on one line
	score float64
	prio  int // position in the priority order
}

// RepoMap renders a repo map of ranked (Rank's result, in its order) that
// fits in budget tokens as count measures them (nil count means
// ingest.EstimateTokens). Each file shown is a block
//
//	path:
//	  L<line>: <signature>
//
// with its lines in line order; blocks follow the rank order. Which lines
// are shown follows aider: all definitions are ordered by symbol score
// (then file rank, then line), and a binary search finds the longest prefix
// of that order whose rendering fits. Definitions on the same line with the
// same signature (Go's "var a, b = ...") make one line. With the lines
// fixed, a second binary search adds, in rank order and at their rank
// position, the files not shown yet as a bare "path" line (no colon), as far
// as the budget still allows: knowing that a file exists is worth its few
// tokens, but less than any definition.
//
// The result never counts above budget; it is "" when budget is not
// positive or nothing fits. count is called about 2*log2(lines+files) times
// on whole renderings, so it need not be additive.
func RepoMap(ranked []Ranked, budget int, count func(string) int) string {
	if budget <= 0 || len(ranked) == 0 {
		return ""
	}
	if count == nil {
		count = ingest.EstimateTokens
	}
	paths := make([]string, len(ranked))
	perFile := make([][]*repoMapItem, len(ranked))
	var items []*repoMapItem
	for fi, r := range ranked {
		paths[fi] = repoMapOneLine(r.Path)
		byLine := map[string]*repoMapItem{}
		for _, s := range r.Symbols {
			text := s.Signature
			if strings.TrimSpace(text) == "" {
				text = s.Name
			}
			text = repoMapOneLine(text)
			k := strconv.Itoa(s.StartLine) + "\x00" + text
			if it, ok := byLine[k]; ok {
				it.score = max(it.score, s.Score)
				continue
			}
			it := &repoMapItem{file: fi, line: s.StartLine, text: text, score: s.Score}
			byLine[k] = it
			items = append(items, it)
			perFile[fi] = append(perFile[fi], it)
		}
		sort.SliceStable(perFile[fi], func(a, b int) bool {
			x, y := perFile[fi][a], perFile[fi][b]
			if x.line != y.line {
				return x.line < y.line
			}
			return x.text < y.text
		})
	}
	sort.SliceStable(items, func(a, b int) bool {
		x, y := items[a], items[b]
		if x.score != y.score {
			return x.score > y.score
		}
		if x.file != y.file {
			return x.file < y.file
		}
		if x.line != y.line {
			return x.line < y.line
		}
		return x.text < y.text
	})
	for i, it := range items {
		it.prio = i
	}

	var b strings.Builder
	// render shows the first nLines items and, among the files none of whose
	// lines are shown, the first nPaths as bare paths.
	render := func(nLines, nPaths int) string {
		b.Reset()
		for fi := range ranked {
			shown := false
			for _, it := range perFile[fi] {
				if it.prio >= nLines {
					continue
				}
				if !shown {
					b.WriteString(paths[fi])
					b.WriteString(":\n")
					shown = true
				}
				b.WriteString("  L")
				b.WriteString(strconv.Itoa(it.line))
				b.WriteString(": ")
				b.WriteString(it.text)
				b.WriteByte('\n')
			}
			if !shown && nPaths > 0 {
				b.WriteString(paths[fi])
				b.WriteByte('\n')
				nPaths--
			}
		}
		return b.String()
	}

	fits := func(nLines, nPaths int) bool { return count(render(nLines, nPaths)) <= budget }
	// The largest number of lines that fits, then the largest number of
	// bare paths next to them.
	nLines := repoMapSearch(len(items), func(n int) bool { return fits(n, 0) })
	bare := 0
	for fi := range ranked {
		if !repoMapAnyShown(perFile[fi], nLines) {
			bare++
		}
	}
	nPaths := repoMapSearch(bare, func(n int) bool { return fits(nLines, n) })
	if s := render(nLines, nPaths); count(s) <= budget {
		return s
	}
	return ""
}

// repoMapSearch returns the largest n in [0, hi] for which ok(n) holds, assuming ok
// is monotone (true up to some n, false after it); ok(0) is not called.
func repoMapSearch(hi int, ok func(int) bool) int {
	lo := 0
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func repoMapAnyShown(items []*repoMapItem, nLines int) bool {
	for _, it := range items {
		if it.prio < nLines {
			return true
		}
	}
	return false
}

// repoMapOneLine replaces line breaks so a path or signature stays on its line.
func repoMapOneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}
