// Package rank orders files by importance (Rank: personalised PageRank over
// references) and renders the repository map of the most referenced
// definitions within a token budget (RepoMap).
package rank

import (
	"math"
	"slices"
	"sort"
	"strings"

	"lore/ingest"
)

// Options tune Rank.
type Options struct {
	// Personalize biases the ranking toward some files (files named in a
	// question, hot files): path -> weight. Paths not among the files and
	// weights that are not positive are ignored; nil (or nothing usable)
	// means uniform. The listed files share PersonalShare of the teleport
	// mass in proportion to their weights and every file shares the rest
	// equally, so files outside the set keep a non-zero, ordered score.
	Personalize map[string]float64
	// Damping is the probability of following an edge rather than
	// teleporting; outside (0, 1) it is DefaultDamping.
	Damping float64
	// Iterations bounds the power iteration; 0 or less means
	// DefaultIterations. It stops early when an iteration moves the scores
	// by less than 1e-9 (L1).
	Iterations int
}

// Rank defaults and constants.
const (
	DefaultDamping    = 0.85
	DefaultIterations = 50
	// PersonalShare is the part of the teleport mass that Options.Personalize
	// directs; the rest is spread uniformly over all files.
	PersonalShare = 0.9
	// rankMinOut is the edge weight below which a file's walk partly
	// teleports instead (the weight of one ordinary reference): a file
	// whose only references are damped names must not send its whole rank
	// through them.
	rankMinOut = 1.0
	// rankTolerance is the L1 change below which the iteration stops.
	rankTolerance = 1e-9
	// rankDampedWeight is the weight of a reference to a very short or very
	// common identifier (see rankIdentWeight), against sqrt(uses) for others.
	rankDampedWeight = 0.03
)

// Ranked is one file with its score and its definitions' scores.
type Ranked struct {
	Path  string
	Score float64 // PageRank; the scores of all files sum to 1
	// Symbols holds all of the file's definitions, by Score descending, then
	// line, then name. Their scores sum to the file's Score.
	Symbols []RankedSymbol
}

// RankedSymbol is a definition with its share of its file's score.
type RankedSymbol struct {
	ingest.Symbol
	Score float64
}

// rankCommonNames are identifiers whose use says little about which file
// it means: the builtins of common languages (Go's len, Python's print,
// JavaScript's console: a repository that also defines one would otherwise
// draw an edge from every file that calls the builtin) and names that nearly
// every type or module defines (String, Error, Close, toString, __init__).
var rankCommonNames = rankNameSet(
	// Go builtins, predeclared types and constants.
	"append cap clear close complex copy delete imag len make max min new panic print println real recover "+
		"any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 "+
		"rune string uint uint8 uint16 uint32 uint64 uintptr true false iota nil",
	// Methods and functions found in nearly every Go package.
	"String Error New Len Less Swap Close Read Write Get Set Put Add Reset Run Init Next Value Key Name Type "+
		"Lock Unlock RLock RUnlock Wait Done Context Err init main Main",
	// Python builtins and dunder methods.
	"self cls super object type isinstance range str float list dict set tuple open format map filter zip sorted "+
		"enumerate sum all repr hash iter next input abs round getattr setattr hasattr "+
		"__init__ __str__ __repr__ __eq__ __hash__ __call__ __len__ __iter__ __enter__ __exit__",
	// JavaScript, TypeScript, Java, C#, C, C++ and Rust staples.
	"console log this constructor prototype length push keys values toString valueOf equals hashCode "+
		"Object Array Number Boolean Promise Map Set JSON Math System println printf malloc free memcpy memset "+
		"strlen sizeof std size get run read write render test setUp value name "+
		"Some None Ok Err Vec Box Option Result unwrap clone into from iter collect default drop fmt",
)

func rankNameSet(lists ...string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, name := range strings.Fields(l) {
			m[name] = true
		}
	}
	return m
}

// rankIdentWeight is the multiplier of references to name: rankDampedWeight
// for names shorter than 3 bytes and for rankCommonNames, 1 otherwise.
func rankIdentWeight(name string) float64 {
	if len(name) < 3 || rankCommonNames[name] {
		return rankDampedWeight
	}
	return 1
}

// rankSymbolIdent is the identifier other files use to refer to a definition:
// the last component of a qualified name ("Server.Serve" -> "Serve",
// "Foo::bar" -> "bar", "Cls#m" -> "m").
func rankSymbolIdent(name string) string {
	if k := strings.LastIndexAny(name, ".:#"); k >= 0 && k+1 < len(name) {
		return name[k+1:]
	}
	return name
}

// rankContrib is one identifier's share of an edge: src refers to key, which dst
// defines, with weight w.
type rankContrib struct {
	dst int32
	key int32
	w   float64
}

type rankEdge struct {
	dst int32
	w   float64
}

// Rank orders files by a personalised PageRank over the graph of definitions
// and references, the way aider's repo map does, and shares each file's score
// among its definitions.
//
// There is an edge from file A to file B for each identifier that A
// references (File.Refs) and B defines (the last component of a
// Symbol.Name: "Server.Serve" is referred to as "Serve"), A != B. An
// identifier contributes
//
//	sqrt(n) / definers         for distinctive names
//	0.03 / definers            for damped names (rankIdentWeight)
//
// where n is how often A uses it (its occurrences as a whole word in A's
// content, at least 1: Refs lists each identifier once; this counts only the
// references the parser found) and definers is the number of files that
// define it, so that an ambiguous name spreads one reference's weight over
// its candidates (aider instead damps names defined in more than 5 files).
// Damped names are those shorter than 3 bytes, language builtins and names
// nearly every type defines (see rankCommonNames); they do not grow with use,
// since a file calling len a hundred times has not referred to the
// repository's own len method. Public and private names weigh the same (in
// Go most edges inside a package go through unexported names). An identifier
// A defines itself adds no edge: A's own definition is taken to be the one
// meant. The weights of A's identifiers pointing to B add up to the weight
// of the edge A -> B.
//
// The scores are the stationary distribution of a walk that, with
// probability Damping, follows an edge out of the current file in
// proportion to its weight, and otherwise teleports to a file drawn from the
// personalisation vector (see Options.Personalize). Unlike plain
// PageRank (and aider), the edge probabilities are weight / max(total
// weight out, 1): a file whose references are few and weak (damped names
// only) follows them only in part and teleports for the rest, as a file
// without edges does, so that a damped reference never carries a file's whole
// rank. Every file, linked or not, gets a score; the scores sum to 1.
//
// A file's score is then shared among its definitions in proportion to the
// flow that reaches it through each identifier (equal parts for definitions
// sharing an identifier; equal parts for all when nothing refers to the
// file).
//
// The result holds every file once, by Score descending, then path. It is
// deterministic: the same files (with distinct paths), in any order, give
// the same result.
func Rank(files []ingest.File, opts Options) []Ranked {
	if len(files) == 0 {
		return nil
	}
	damping := opts.Damping
	if !(damping > 0 && damping < 1) {
		damping = DefaultDamping
	}
	iters := opts.Iterations
	if iters <= 0 {
		iters = DefaultIterations
	}

	// Nodes in path order (stable for equal paths), so that every sum below
	// runs in a fixed order.
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return files[order[a]].Path < files[order[b]].Path })
	n := len(order)
	fs := make([]*ingest.File, n)
	for i, k := range order {
		fs[i] = &files[k]
	}

	// Definition index: identifier -> key, key -> defining nodes (ascending).
	keys := map[string]int32{}
	var definers [][]int32
	var keyNames []string
	symKeys := make([][]int32, n) // per node, the key of each symbol
	for i, f := range fs {
		symKeys[i] = make([]int32, len(f.Symbols))
		for j, s := range f.Symbols {
			id := rankSymbolIdent(s.Name)
			k, ok := keys[id]
			if !ok {
				k = int32(len(keyNames))
				keys[id] = k
				keyNames = append(keyNames, id)
				definers = append(definers, nil)
			}
			symKeys[i][j] = k
			if d := definers[k]; len(d) == 0 || d[len(d)-1] != int32(i) {
				definers[k] = append(d, int32(i))
			}
		}
	}

	// Edges.
	contribs := make([][]rankContrib, n)
	edges := make([][]rankEdge, n)
	out := make([]float64, n)
	for i, f := range fs {
		counts := rankRefCounts(f, keys)
		if len(counts) == 0 {
			continue
		}
		ids := make([]string, 0, len(counts))
		for id := range counts {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		byDst := map[int32]float64{}
		for _, id := range ids {
			k := keys[id]
			defs := definers[k]
			if _, self := slices.BinarySearch(defs, int32(i)); self {
				continue
			}
			mul := rankIdentWeight(id)
			w := mul / float64(len(defs))
			if mul == 1 {
				w *= math.Sqrt(float64(counts[id]))
			}
			for _, d := range defs {
				contribs[i] = append(contribs[i], rankContrib{dst: d, key: k, w: w})
				byDst[d] += w
			}
		}
		for _, c := range contribs[i] {
			if w, ok := byDst[c.dst]; ok {
				edges[i] = append(edges[i], rankEdge{dst: c.dst, w: w})
				delete(byDst, c.dst)
			}
		}
		sort.Slice(edges[i], func(a, b int) bool { return edges[i][a].dst < edges[i][b].dst })
		for _, e := range edges[i] {
			out[i] += e.w
		}
	}

	// Teleport vector.
	tele := make([]float64, n)
	for i := range tele {
		tele[i] = 1 / float64(n)
	}
	if len(opts.Personalize) > 0 {
		pw := make([]float64, n)
		total := 0.0
		for i, f := range fs {
			if w := opts.Personalize[f.Path]; w > 0 && !math.IsInf(w, 0) {
				pw[i] = w
				total += w
			}
		}
		if total > 0 {
			for i := range tele {
				tele[i] = (1-PersonalShare)/float64(n) + PersonalShare*pw[i]/total
			}
		}
	}

	// Power iteration. A file follows its edges in proportion to their
	// weights over max(total, rankMinOut); what a file with weak edges
	// (only damped names) does not follow teleports, as from a file without
	// edges.
	norm := make([]float64, n)
	stay := make([]float64, n) // the part of a file's rank that teleports
	for i := range n {
		norm[i] = max(out[i], rankMinOut)
		stay[i] = 1 - out[i]/norm[i]
	}
	rank := slices.Clone(tele)
	next := make([]float64, n)
	for range iters {
		dangling := 0.0
		for i := range n {
			dangling += rank[i] * stay[i]
		}
		for i := range next {
			next[i] = (1 - damping + damping*dangling) * tele[i]
		}
		for i := range n {
			if out[i] == 0 {
				continue
			}
			r := damping * rank[i] / norm[i]
			for _, e := range edges[i] {
				next[e.dst] += r * e.w
			}
		}
		diff := 0.0
		for i := range n {
			diff += math.Abs(next[i] - rank[i])
		}
		rank, next = next, rank
		if diff < rankTolerance {
			break
		}
	}

	// Flow into each (file, identifier), to share file scores among symbols.
	flow := make([]map[int32]float64, n)
	inflow := make([]float64, n)
	for i := range n {
		if out[i] == 0 {
			continue
		}
		r := damping * rank[i] / norm[i]
		for _, c := range contribs[i] {
			if flow[c.dst] == nil {
				flow[c.dst] = map[int32]float64{}
			}
			flow[c.dst][c.key] += r * c.w
			inflow[c.dst] += r * c.w
		}
	}

	res := make([]Ranked, n)
	for i, f := range fs {
		rk := Ranked{Path: f.Path, Score: rank[i]}
		if len(f.Symbols) > 0 {
			perKey := map[int32]int{}
			for _, k := range symKeys[i] {
				perKey[k]++
			}
			rk.Symbols = make([]RankedSymbol, len(f.Symbols))
			for j, s := range f.Symbols {
				sc := rank[i] / float64(len(f.Symbols))
				if inflow[i] > 0 {
					k := symKeys[i][j]
					sc = rank[i] * flow[i][k] / inflow[i] / float64(perKey[k])
				}
				rk.Symbols[j] = RankedSymbol{Symbol: s, Score: sc}
			}
			sort.SliceStable(rk.Symbols, func(a, b int) bool {
				x, y := rk.Symbols[a], rk.Symbols[b]
				if x.Score != y.Score {
					return x.Score > y.Score
				}
				if x.StartLine != y.StartLine {
					return x.StartLine < y.StartLine
				}
				return x.Name < y.Name
			})
		}
		res[i] = rk
	}
	sort.SliceStable(res, func(a, b int) bool {
		if res[a].Score != res[b].Score {
			return res[a].Score > res[b].Score
		}
		return res[a].Path < res[b].Path
	})
	return res
}

// rankRefCounts returns, for each identifier f refers to that some file
// defines, how many times f uses it: its occurrences as a whole word in f's
// content (identifier bytes: ASCII letters, digits, '_', '$' and all
// non-ASCII bytes), or the times Refs lists it if that is more, and at
// least 1.
func rankRefCounts(f *ingest.File, keys map[string]int32) map[string]int {
	var counts map[string]int
	for _, r := range f.Refs {
		if _, ok := keys[r]; !ok || r == "" {
			continue
		}
		if counts == nil {
			counts = map[string]int{}
		}
		counts[r]++
	}
	if len(counts) == 0 {
		return nil
	}
	// maybe[b] has bit min(len, 63) set when some counted identifier of
	// that length starts with b: most words are rejected without a map
	// lookup.
	var maybe [256]uint64
	for id := range counts {
		maybe[id[0]] |= 1 << min(len(id), 63)
	}
	seen := make(map[string]int, len(counts))
	c := f.Content
	for i := 0; i < len(c); {
		if !rankIdentByte(c[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(c) && rankIdentByte(c[j]) {
			j++
		}
		if maybe[c[i]]&(1<<min(j-i, 63)) != 0 {
			if _, ok := counts[string(c[i:j])]; ok {
				seen[string(c[i:j])]++
			}
		}
		i = j
	}
	for id, n := range seen {
		if n > counts[id] {
			counts[id] = n
		}
	}
	return counts
}

func rankIdentByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '$' || b >= 0x80
}
