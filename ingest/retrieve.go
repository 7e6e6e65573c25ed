package ingest

import (
	"path"
	"sort"
	"strings"
	"unicode"
)

// KindRetrieved is the segment of files fetched for one question: files the
// question names that the pack does not hold in full. It goes just before the
// question, never into the cached prefix.
const KindRetrieved SegmentKind = "retrieved"

// Retrieve finds the files a question names (by path or base name, or by a
// definition they hold; failing those, by the question's rarer words in
// their text) among candidates, the files the pack does not hold in full,
// and returns as many as fit in budget tokens, best match first, as one
// segment. It returns the zero Segment when nothing matches.
func Retrieve(question string, candidates []*File, budget int, count func(string) int) (Segment, []string) {
	if budget <= 0 || len(candidates) == 0 {
		return Segment{}, nil
	}
	if count == nil {
		count = EstimateTokens
	}
	words := questionWords(question)
	if len(words) == 0 {
		return Segment{}, nil
	}
	type hit struct {
		f     *File
		score float64
	}
	var hits []hit
	for _, f := range candidates {
		score := 0.0
		base := path.Base(f.Path)
		stem := strings.TrimSuffix(base, path.Ext(base))
		for w := range words {
			switch {
			case strings.Contains(w, "/") && strings.HasSuffix(f.Path, w):
				score += 10 // a path
			case w == strings.ToLower(base) || (len(stem) >= 3 && w == strings.ToLower(stem)):
				score += 8 // a file name
			}
		}
		for _, s := range f.Symbols {
			name := s.Name
			if i := strings.LastIndexByte(name, '.'); i >= 0 {
				name = name[i+1:]
			}
			if len(name) >= 3 && words[strings.ToLower(name)] {
				score += 5 // a definition it holds
			}
		}
		if score == 0 {
			// Keyword search: the question's longer words in the text.
			text := strings.ToLower(string(f.Content))
			for w := range words {
				if len(w) >= 5 && strings.Contains(text, w) {
					score += 0.5
				}
			}
			if score < 1 { // at least two words must occur
				continue
			}
		}
		hits = append(hits, hit{f, score})
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].score != hits[j].score {
			return hits[i].score > hits[j].score
		}
		return hits[i].f.Path < hits[j].f.Path
	})
	const open, close = "<retrieved>\nThese files, not shown in full above, are the ones the question names:\n", "</retrieved>\n"
	var b strings.Builder
	var paths []string
	left := budget - count(open+close)
	for _, h := range hits {
		text := fileText(h.f)
		if n := count(text); n <= left {
			b.WriteString(text)
			paths = append(paths, h.f.Path)
			left -= n
		}
	}
	if len(paths) == 0 {
		return Segment{}, nil
	}
	return newSegment(KindRetrieved, "", "", open+b.String()+close), paths
}

// stopWords are words too common in questions to select files by.
var stopWords = map[string]bool{
	"the": true, "and": true, "for": true, "with": true, "what": true, "where": true, "which": true,
	"does": true, "how": true, "why": true, "this": true, "that": true, "from": true, "into": true,
	"when": true, "there": true, "their": true, "about": true, "file": true, "files": true,
	"code": true, "function": true, "should": true, "would": true, "could": true, "work": true,
	"works": true, "make": true, "used": true, "uses": true, "use": true, "change": true,
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
