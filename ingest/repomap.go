package ingest

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
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
// EstimateTokens). Each file shown is a block
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
		count = EstimateTokens
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

// EstimateTokens estimates how many tokens a BPE tokenizer with a vocabulary
// of about 32k tokens derived from cl100k (the engine's generated models)
// makes of s, when no model is loaded. It is a single pass without
// allocations.
//
// It splits s into the runs such a tokenizer sees and charges each:
//
//	identifier part (a letter run split at camelCase humps: "ServeHTTP" is
//	  "Serve" + "HTTP")                       0.97, plus 0.40 per letter past 6
//	digits                                    1.6 per group of 3
//	ASCII punctuation run ('_' included)      0.43 + 0.23 per byte
//	newline                                   0.48, plus 1.0 if indentation follows
//	other white space run of 2 or more        1.2 (a single space joins the next word)
//	non-ASCII character or control byte       2.75
//
// The weights were fitted by least squares (relative error) to the token
// counts of the Go files of $(go env GOROOT)/src/net under the demo model's
// tokenizer. On those 390 files the mean absolute error is 76 tokens per
// file, 3.7% of the true count (bias -1%), against 9% for len/3.2 and 20%
// for len/4; on held-out files it was 4% (Go, C, Rust, TypeScript), 5-6%
// (C++, C headers, JavaScript, Python, Markdown) and 6.4% (Java).
// TestEstimateTokensCalibration measures it again.
func EstimateTokens(s string) int {
	// Weights in thousandths of a token.
	const (
		wWord      = 970
		wWordLong  = 400
		wWordShort = 6
		wDigits    = 1600
		wPunct     = 230
		wPunctRun  = 430
		wNewline   = 480
		wIndent    = 1000
		wSpaces    = 1200
		wOther     = 2750
	)
	milli := 0
	n := len(s)
	for i := 0; i < n; {
		c := s[i]
		switch {
		case estLetter(c):
			j := i
			for j < n && estLetter(s[j]) {
				j++
			}
			start := i
			for k := i + 1; k <= j; k++ {
				if k == j || estUpper(s[k]) && (!estUpper(s[k-1]) || k+1 < j && estLower(s[k+1])) {
					milli += wWord
					if l := k - start; l > wWordShort {
						milli += (l - wWordShort) * wWordLong
					}
					start = k
				}
			}
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < n && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			milli += (j - i + 2) / 3 * wDigits
			i = j
		case estPunct(c):
			j := i
			for j < n && estPunct(s[j]) {
				j++
			}
			milli += wPunctRun + (j-i)*wPunct
			i = j
		case c == '\n':
			milli += wNewline
			j := i + 1
			for j < n && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j > i+1 {
				milli += wIndent
			}
			i = j
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			j := i + 1
			for j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\f' || s[j] == '\v') {
				j++
			}
			if j > i+1 {
				milli += wSpaces
			}
			i = j
		case c < utf8.RuneSelf:
			milli += wOther // other control bytes
			i++
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			milli += wOther
			i += size
		}
	}
	if milli == 0 {
		if n > 0 {
			return 1
		}
		return 0
	}
	return max((milli+500)/1000, 1)
}

func estLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func estUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func estLower(c byte) bool  { return c >= 'a' && c <= 'z' }

// estPunct reports ASCII punctuation: !-/ :-@ [-` {-~.
func estPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}
