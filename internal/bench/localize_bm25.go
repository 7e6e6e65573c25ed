package bench

import (
	"math"
	"sort"
	"strings"

	"lore/ingest"
)

// The BM25 baselines of lore bench localize: plain Okapi BM25 (k1 1.2,
// b 0.75) over each file's path and content, identifiers split into their
// words (parseHTTPRequest: parse, http, request, and the whole word), the
// commit message as the query. It is deliberately the textbook method, so
// that what lore's selection is compared with is not tuned to the
// benchmark.

const (
	bm25K1 = 1.2
	bm25B  = 0.75
	// bm25Open and bm25Close wrap the files a baseline adds for a question,
	// as retrieve wraps lore's: their tokens count against its room.
	bm25Open  = "<retrieved>\nThese files, not shown in full above, may be relevant to the question:\n"
	bm25Close = "</retrieved>\n"
)

// bm25Doc is one file's term counts.
type bm25Doc struct {
	tf  map[string]int
	len int
}

// bm25Index holds the term statistics of one tree. Documents are kept by
// path and content hash across commits, so an unchanged file is not split
// into words again.
type bm25Index struct {
	docs  map[string]*bm25Doc // by path + "\x00" + hash
	df    map[string]int
	n     int
	avgdl float64
}

func newBM25Index() *bm25Index { return &bm25Index{docs: map[string]*bm25Doc{}} }

func bm25Key(f *ingest.File) string { return f.Path + "\x00" + f.Hash }

// reset computes the corpus statistics over files (the whole scan): both
// baselines score with the repository's document frequencies.
func (x *bm25Index) reset(files []ingest.File) {
	keep := make(map[string]*bm25Doc, len(files))
	x.df = map[string]int{}
	total := 0
	for i := range files {
		f := &files[i]
		k := bm25Key(f)
		d := x.docs[k]
		if d == nil {
			d = &bm25Doc{tf: map[string]int{}}
			splitWords(f.Path+"\n"+string(f.Content), func(w string) { d.tf[w]++; d.len++ })
		}
		keep[k] = d
		for w := range d.tf {
			x.df[w]++
		}
		total += d.len
	}
	x.docs, x.n = keep, len(files)
	x.avgdl = float64(total) / float64(max(1, len(files)))
}

// rank scores candidates against the query, best first; files that share
// no term with it are left out.
func (x *bm25Index) rank(query string, candidates []*ingest.File) []*ingest.File {
	terms := map[string]bool{}
	splitWords(query, func(w string) { terms[w] = true })
	type scored struct {
		f *ingest.File
		s float64
	}
	var hits []scored
	for _, f := range candidates {
		d := x.docs[bm25Key(f)]
		if d == nil {
			continue
		}
		s := 0.0
		for t := range terms {
			tf := float64(d.tf[t])
			if tf == 0 {
				continue
			}
			df := float64(x.df[t])
			idf := math.Log(1 + (float64(x.n)-df+0.5)/(df+0.5))
			s += idf * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*float64(d.len)/x.avgdl))
		}
		if s > 0 {
			hits = append(hits, scored{f, s})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].s != hits[j].s {
			return hits[i].s > hits[j].s
		}
		return hits[i].f.Path < hits[j].f.Path
	})
	out := make([]*ingest.File, len(hits))
	for i, h := range hits {
		out[i] = h.f
	}
	return out
}

// bm25Fill takes ranked files in full, best first, while they fit in room
// tokens with the wrapper (a file that does not fit is passed over for
// the next), and returns their paths and the tokens used.
func bm25Fill(ranked []*ingest.File, room int, count func(string) int) ([]string, int) {
	used := count(bm25Open + bm25Close)
	if len(ranked) == 0 || used >= room {
		return nil, 0
	}
	var paths []string
	for _, f := range ranked {
		n := count(ingest.FileText(f))
		if used+n <= room {
			paths = append(paths, f.Path)
			used += n
		}
	}
	if len(paths) == 0 {
		return nil, 0
	}
	return paths, used
}

// splitWords calls fn with the lower-cased words of text: each run of
// letters, digits and underscores longer than one character, and, for an
// identifier made of parts (snake_case, camelCase, HTTPServer), each part
// longer than one character as well.
func splitWords(text string, fn func(string)) {
	isWord := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
	}
	for i := 0; i < len(text); {
		if !isWord(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isWord(text[j]) {
			j++
		}
		tok := text[i:j]
		i = j
		if len(tok) < 2 || len(tok) > 64 {
			continue
		}
		fn(strings.ToLower(tok))
		parts := identifierParts(tok)
		if len(parts) > 1 {
			for _, p := range parts {
				if len(p) >= 2 {
					fn(strings.ToLower(p))
				}
			}
		}
	}
}

// identifierParts splits an identifier at underscores, lower-to-upper
// changes (parseHTTP: parse, HTTP), the last capital of a run of capitals
// followed by a lower-case letter (HTTPServer: HTTP, Server) and
// letter-digit changes.
func identifierParts(tok string) []string {
	var out []string
	start := 0
	cut := func(k int) {
		if k > start {
			out = append(out, tok[start:k])
		}
		start = k
	}
	class := func(c byte) int {
		switch {
		case 'a' <= c && c <= 'z' || c >= 0x80:
			return 1
		case 'A' <= c && c <= 'Z':
			return 2
		case '0' <= c && c <= '9':
			return 3
		}
		return 0
	}
	for k := 0; k < len(tok); k++ {
		c := tok[k]
		if c == '_' {
			cut(k)
			start = k + 1
			continue
		}
		if k == start {
			continue
		}
		prev, cur := class(tok[k-1]), class(c)
		switch {
		case prev == 1 && cur == 2, prev != 3 && cur == 3, prev == 3 && cur != 3:
			cut(k)
		case prev == 2 && cur == 2 && k+1 < len(tok) && class(tok[k+1]) == 1:
			cut(k)
		}
	}
	cut(len(tok))
	return out
}
