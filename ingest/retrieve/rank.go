package retrieve

import (
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"

	"lore/ingest"
)

// The content search: Okapi BM25 over each candidate's path and text,
// identifiers counted whole and split into their words (maxRetries counts
// for "maxretries", "max" and "retries"), the question's words as the
// query. Every candidate that shares a word with the question is ranked:
// how common a word is lowers its weight (the inverse document frequency)
// instead of ruling it out, so a question in everyday words still finds
// the file that uses most of them, and the whole allowance can be spent
// best file first.
const bm25K1, bm25B = 1.2, 0.75

// contentTerms returns the question's words the content search looks
// for: each identifier whole and its parts, lower-cased and stemmed,
// without the stop words, sorted.
func contentTerms(question string) []string {
	seen := map[string]bool{}
	countWords([]byte(question), 2, 64, func(w []byte) {
		if expAllWords || !stopWords[string(w)] {
			seen[string(w)] = true
		}
	})
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// contentScores returns each candidate's BM25 score for terms (0 for one
// that shares none), the candidates' own term statistics making the
// weights, and how many candidates use each term.
func contentScores(terms []string, files []*ingest.File) ([]float64, map[string]int) {
	scores := make([]float64, len(files))
	if len(terms) == 0 || len(files) == 0 {
		return scores, nil
	}
	index := make(map[string]int, len(terms))
	lo, hi := len(terms[0]), 0
	for i, t := range terms {
		index[t] = i
		lo, hi = min(lo, len(t)), max(hi, len(t)+1) // +1: a plural stems to t
	}
	tfs := make([][]int, len(files)) // term counts per file, nil when none
	lens := make([]int, len(files))
	// Reading every candidate's text is the cost: on 2 cores, 154 ms for
	// the 9,148 files of GOROOT/src, against 285 ms in one goroutine.
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), max(1, len(files)/64))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(files); i += workers {
				tf := make([]int, len(terms))
				found := false
				fn := func(w []byte) {
					if j, ok := index[string(w)]; ok {
						tf[j]++
						found = true
					}
				}
				lens[i] = countWords([]byte(files[i].Path), lo, hi, fn) + countWords(files[i].Content, lo, hi, fn)
				if found {
					tfs[i] = tf
				}
			}
		})
	}
	wg.Wait()
	df := make([]int, len(terms))
	total := 0
	for i, tf := range tfs {
		total += lens[i]
		for j, n := range tf {
			if n > 0 {
				df[j]++
			}
		}
	}
	n := float64(len(files))
	avg := float64(total)/n + 1
	for i, tf := range tfs {
		for j, c := range tf {
			if c == 0 {
				continue
			}
			idf := math.Log(1 + (n-float64(df[j])+0.5)/(float64(df[j])+0.5))
			tc := float64(c)
			scores[i] += idf * tc * (bm25K1 + 1) / (tc + bm25K1*(1-bm25B+bm25B*float64(lens[i])/avg))
		}
	}
	dfs := make(map[string]int, len(terms))
	for j, t := range terms {
		dfs[t] = df[j]
	}
	return scores, dfs
}

// rankFiles orders the candidates the question names or shares words
// with, best first, by content score plus, for the files it names (by
// path, file name or a definition, see namedHits), namedWeight times the
// name score.
func rankFiles(question string, words map[string]bool, candidates []*ingest.File) []hit {
	scores, dfs := contentScores(contentTerms(question), candidates)
	// A word that many files use ("test", "client", "error") names no
	// file even where one is called by it: test.txt is not what "the test
	// client" means. Paths and file names with an extension still name.
	names := make(map[string]bool, len(words))
	for w := range words {
		if strings.ContainsAny(w, "./") || float64(dfs[wordStem(w)]) <= max(minCommon, commonShare*float64(len(candidates))) {
			names[w] = true
		}
	}
	named, _ := namedHits(names, candidates)
	nameScore := make(map[*ingest.File]float64, len(named))
	for _, h := range named {
		nameScore[h.f] = h.score
	}
	var hits []hit
	for i, f := range candidates {
		if s, ok := nameScore[f]; ok {
			hits = append(hits, hit{f, namedWeight*s + scores[i], true})
		} else if scores[i] > 0 {
			hits = append(hits, hit{f, scores[i], false})
		}
	}
	sortHits(hits)
	return hits
}

// commonShare is the share of the candidates whose content may use a
// word for it still to name a file; minCommon is the fewest, so that
// among a handful of candidates a name still names.
const commonShare, minCommon = 0.1, 3

// namedWeight is what a point of name score (10 for a path, 8 for a file
// name, 5 for a definition) adds to the content score: enough that a file
// the question names usually comes first, not so much that a weak name
// match beats a file that holds most of the question's words. (Measured
// with lore bench localize: 1 did better than 0, 0.3 and 1000.)
const namedWeight = 1.0

var expAllWords bool
