// Package retrieve finds, for one question, the files it names among those
// the pack does not hold in full, and places them in a segment just before
// the question.
package retrieve

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode"

	"lore/ingest"
)

// Retrieve finds the files a question needs among candidates, the files
// the pack does not hold in full, and returns as many as fit in budget
// tokens as one segment: the files it names (by path or base name, or by a
// definition they hold) first, then the files whose content shares its
// words (BM25), each whole and best first, a file that does not fit passed
// over for the next, and each followed by its test or the source it tests
// where that fits too. What is left then goes to excerpts of the named
// files that did not fit whole (an excerpt first would take the room of
// whole files). It returns the zero Segment when nothing matches.
func Retrieve(question string, candidates []*ingest.File, budget int, count func(string) int) (ingest.Segment, []string) {
	r := Select(question, candidates, budget, count)
	return r.Segment, r.Paths()
}

// Result is what Select found for one question.
type Result struct {
	Segment  ingest.Segment // the retrieved files, to place before the question
	Full     []string       // files placed whole, best first
	Excerpts []string       // files placed as excerpts (named, too large to fit whole)
	Tokens   int            // the segment's tokens, by count
}

// Paths are all the files retrieved: those in full, then the excerpts.
func (r Result) Paths() []string {
	if len(r.Full)+len(r.Excerpts) == 0 {
		return nil
	}
	return append(slices.Clip(r.Full), r.Excerpts...)
}

// Select is Retrieve telling the files placed whole from the excerpts, so
// a user can tell whether the answer saw the code it talks about.
func Select(question string, candidates []*ingest.File, budget int, count func(string) int) Result {
	if budget <= 0 || len(candidates) == 0 {
		return Result{}
	}
	if count == nil {
		count = ingest.EstimateTokens
	}
	words := questionWords(question)
	ranked := rankFiles(question, words, candidates)
	if len(ranked) == 0 {
		return Result{}
	}
	const open, close = "<retrieved>\nThese files, not shown in full above, are the ones the question may need:\n", "</retrieved>\n"
	var b strings.Builder
	var r Result
	added := map[*ingest.File]bool{}
	left := budget - count(open+close)
	place := func(f *ingest.File, text string, paths *[]string) bool {
		n := count(text)
		if text == "" || n > left {
			return false
		}
		b.WriteString(text)
		*paths = append(*paths, f.Path)
		added[f] = true
		left -= n
		return true
	}
	whole := func(f *ingest.File) bool { return !added[f] && place(f, ingest.FileText(f), &r.Full) }
	pairs := newPartners(candidates)
	for _, h := range ranked {
		if left < minRoom {
			break
		}
		if whole(h.f) {
			if p := pairs.of(h.f); p != nil {
				whole(p)
			}
		}
	}
	for _, h := range ranked {
		if left < minRoom {
			break
		}
		if h.named && !added[h.f] {
			place(h.f, excerpt(h.f, words, left, count), &r.Excerpts)
		}
	}
	if len(r.Full)+len(r.Excerpts) == 0 {
		return Result{}
	}
	text := open + b.String() + close
	r.Segment = ingest.NewSegment(ingest.KindRetrieved, "", "", text)
	r.Tokens = count(text)
	return r
}

type hit struct {
	f     *ingest.File
	score float64
	named bool // the question names the file: worth an excerpt where it does not fit whole
}

// sortHits orders hits best first, then by path.
func sortHits(hits []hit) {
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].score != hits[j].score {
			return hits[i].score > hits[j].score
		}
		return hits[i].f.Path < hits[j].f.Path
	})
}

// nameMatch is how a file matches a word of the question by name.
type nameMatch struct {
	word  string
	score float64
	exact bool // a path or a whole file name: specific whatever other files do
}

// key tells apart a word naming files from the same word naming
// definitions: "ask" may name a few files ask.go and many functions.
func (m nameMatch) key() string {
	if m.score == symbolScore {
		return "def:" + m.word
	}
	return "file:" + m.word
}

const symbolScore = 5

// nameMatches lists how the question names f: by its path (10), its file
// name (8, with 2 more for a folder the question also names), or a
// definition it holds (5 for each name).
func nameMatches(f *ingest.File, words map[string]bool) []nameMatch {
	var out []nameMatch
	base := path.Base(f.Path)
	stem := strings.ToLower(strings.TrimSuffix(base, path.Ext(base)))
	named := ""
	for w := range words {
		switch {
		case strings.Contains(w, "/") && strings.HasSuffix(f.Path, w):
			out = append(out, nameMatch{w, 10, true})
		case w == strings.ToLower(base):
			out = append(out, nameMatch{w, 8, true})
			named = w
		case len(stem) >= 3 && wordStem(w) == wordStem(stem):
			out = append(out, nameMatch{w, 8, false})
			named = w
		}
	}
	if named != "" {
		// Of two files of one name, the one in the folder the question
		// also names: "the daemon's snapshots" is daemon/snapshot.go.
		for _, dir := range strings.Split(strings.ToLower(path.Dir(f.Path)), "/") {
			if len(dir) >= 3 && dir != named && words[dir] {
				out = append(out, nameMatch{named, 2, false})
			}
		}
	}
	for _, s := range f.Symbols {
		if name := symbolWord(s); len(name) >= 3 && words[name] && !slices.ContainsFunc(out, func(m nameMatch) bool { return m.word == name && m.score == symbolScore }) {
			out = append(out, nameMatch{name, symbolScore, false}) // once per name: overloads are one name
		}
	}
	return out
}

// namedHits returns the candidates the question names, best first, and the
// others. A word that names many files ("test", "list", "first" as
// definitions or file names) does not say which one is meant: past
// maxDF files it names none.
func namedHits(words map[string]bool, candidates []*ingest.File) (hits []hit, rest []*ingest.File) {
	matches := make([][]nameMatch, len(candidates))
	df := map[string]int{} // by m.key()
	for i, f := range candidates {
		matches[i] = nameMatches(f, words)
		seen := map[string]bool{}
		for _, m := range matches[i] {
			if k := m.key(); !m.exact && !seen[k] {
				seen[k] = true
				df[k]++
			}
		}
	}
	limit := maxDF(len(candidates))
	for i, f := range candidates {
		score := 0.0
		for _, m := range matches[i] {
			if m.exact || df[m.key()] <= limit {
				score += m.score
			}
		}
		if score > 0 {
			hits = append(hits, hit{f, score, true})
		} else {
			rest = append(rest, f)
		}
	}
	sortHits(hits)
	return hits, rest
}

// symbolWord is the word a question names a definition by: its name after
// the last '.' ("Recv.Method" is "method"), lower-cased.
func symbolWord(s ingest.Symbol) string {
	name := s.Name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(name)
}

const (
	minExcerpt = 8  // the fewest lines an excerpt is worth
	minRoom    = 32 // the fewest tokens worth looking for another file
)

// excerpt returns as much of f as fits in room tokens, from the first
// definition the question names (or from the top), marked with the lines it
// holds; "" when fewer than minExcerpt lines fit.
func excerpt(f *ingest.File, words map[string]bool, room int, count func(string) int) string {
	lines := bytes.SplitAfter(f.Content, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < minExcerpt {
		return ""
	}
	from := 0
	for _, s := range f.Symbols {
		if name := symbolWord(s); len(name) >= 3 && words[name] && s.StartLine >= 1 {
			from = min(s.StartLine-1, len(lines)-1)
			break
		}
	}
	text := func(k int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "<file path=\"%s\" lang=\"%s\" lines=\"%d-%d of %d\">\n", ingest.EscapeAttr(f.Path), ingest.EscapeAttr(f.Lang), from+1, from+k, len(lines))
		body := ingest.Fence(string(bytes.Join(lines[from:from+k], nil)))
		b.WriteString(body)
		if body != "" && !strings.HasSuffix(body, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString("</file>\n")
		return b.String()
	}
	// The most lines that fit.
	k := sort.Search(len(lines)-from+1, func(k int) bool { return count(text(k)) > room }) - 1
	if k < minExcerpt {
		return ""
	}
	return text(k)
}

const maxDFShare = 0.02

// maxDF is the most files out of n a word may match and still name a
// file: past it a name ("test", "list") does not say which one is meant.
func maxDF(n int) int { return max(2, int(maxDFShare*float64(n))) }

// countWords calls fn with each word of text that is lo to hi bytes long,
// lower-cased and stemmed: every identifier whole, and also its parts where
// it joins several (snake_case, camelCase), so "retries" finds maxRetries.
// It returns the number of identifiers. fn must not keep w.
func countWords(text []byte, lo, hi int, fn func(w []byte)) int {
	var buf []byte
	n := 0
	for i := 0; i < len(text); {
		if !wordByte[text[i]] {
			i++
			continue
		}
		j := i
		for j < len(text) && wordByte[text[j]] {
			j++
		}
		tok := text[i:j]
		i = j
		n++
		if len(tok) < lo {
			continue // its parts are shorter still
		}
		if len(tok) <= hi {
			buf = appendLower(buf[:0], tok)
			fn(stemBytes(buf))
		}
		if !hasParts(tok) {
			continue
		}
		start := 0
		for k := 1; k <= len(tok); k++ {
			if k < len(tok) && !partBoundary(tok, k) {
				continue
			}
			if part := bytes.Trim(tok[start:k], "_"); len(part) >= lo && len(part) <= hi {
				buf = appendLower(buf[:0], part)
				fn(stemBytes(buf))
			}
			start = k
		}
	}
	return n
}

// wordByte tells the bytes of identifiers (any non-ASCII byte included, so
// that words in other scripts stay whole).
var wordByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '_' || c >= 0x80 || '0' <= c && c <= '9' || isLower(byte(c)) || isUpper(byte(c))
	}
	return t
}()

func hasParts(tok []byte) bool {
	for k := 1; k < len(tok); k++ {
		if partBoundary(tok, k) {
			return true
		}
	}
	return false
}

// partBoundary reports whether an identifier's next part starts at tok[k]:
// after an underscore, at a lower-to-upper change ("freshPrefix"), or at the
// last upper of an upper run followed by a lower ("HTTPServer").
func partBoundary(tok []byte, k int) bool {
	a, b := tok[k-1], tok[k]
	switch {
	case b == '_':
		return true
	case isLower(a) && isUpper(b):
		return true
	case isUpper(a) && isUpper(b) && k+1 < len(tok) && isLower(tok[k+1]):
		return true
	}
	return false
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		if isUpper(c) {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// stemBytes strips a plural "s" ("snapshots", not "process"), so that the
// question and the text meet on one form of the word.
func stemBytes(w []byte) []byte {
	if n := len(w); n > 4 && w[n-1] == 's' && w[n-2] != 's' {
		return w[:n-1]
	}
	return w
}

func wordStem(w string) string { return string(stemBytes([]byte(w))) }

// stopWords are words too common in questions to select files by: English
// that asks or points rather than names, and words for the whole
// repository.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		the and for with what where which who whose does did how why this that these those
		from into onto over under after before again when then than there here their they them
		about also just only very really some other many much more most each every any all
		are was were been being have has had will can may might must not but you your our its
		should would could need needs want like best good better first last next same
		file files code function functions work works make makes made used uses use using
		change changes changed happen happens handle handles handled show tell give list
		explain describe summarize summary purpose overview part parts thing things way ways
		repository repositories repo project codebase kept keep keeps out
	`) {
		stopWords[w] = true
	}
}

// questionWords returns the question's identifiers and paths, lower-cased.
func questionWords(q string) map[string]bool {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(q, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '/' || r == '.' || r == '-')
	}) {
		w = strings.ToLower(strings.Trim(w, ".-/"))
		if len(w) >= 3 && !stopWords[w] {
			words[w] = true
		}
	}
	return words
}
