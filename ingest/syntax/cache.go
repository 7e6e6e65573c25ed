package syntax

import (
	"encoding/json"
	"strconv"

	"lore/ingest"
)

// parseCacheVersion is the N of the parse cache keys "parse/vN/LANG/HASH".
// Bump it whenever a query (queries/*.scm) or the rules that turn matches
// into symbols change, so that old results are not reused;
// TestParseCacheVersion fails when the queries change without a bump.
const parseCacheVersion = 1

// ParseCacheKey is the KV key of the parse result of a file in lang whose
// content has the hex sha256 hash (File.Hash).
func ParseCacheKey(lang, hash string) string {
	return "parse/v" + strconv.Itoa(parseCacheVersion) + "/" + lang + "/" + hash
}

// Fill sets f.Symbols and f.Refs for a file in a language Parse supports,
// through kv (parse results by language and content hash) when it is not
// nil. A cached result is used as is; a fresh one is stored unless the parse
// failed. Cache errors only cost a parse. Callers that fill files from
// several goroutines pass a kv that is safe for that.
func Fill(f *ingest.File, kv ingest.KV) {
	if grammarFor(f.Lang) == nil {
		return
	}
	var key string
	if kv != nil {
		key = ParseCacheKey(f.Lang, f.Hash)
		val, ok, err := kv.Get(key)
		if err == nil && ok {
			if p, err := decodeParsed(val); err == nil {
				f.Symbols, f.Refs = p.Symbols, p.Refs
				return
			}
		}
	}
	p, err := Parse(f.Lang, f.Content)
	f.Symbols, f.Refs = p.Symbols, p.Refs
	if err != nil || kv == nil {
		return
	}
	val, err := encodeParsed(p)
	if err != nil {
		return
	}
	_ = kv.Put(key, val)
}

// cachedParsed is the stored form of a Parsed: short field names keep the
// entries small.
type cachedParsed struct {
	S []cachedSymbol `json:"s,omitempty"`
	R []string       `json:"r,omitempty"`
}

type cachedSymbol struct {
	N string `json:"n"`
	K string `json:"k"`
	A int    `json:"a"`
	B int    `json:"b"`
	G string `json:"g,omitempty"`
}

func encodeParsed(p Parsed) ([]byte, error) {
	c := cachedParsed{R: p.Refs}
	if len(p.Symbols) > 0 {
		c.S = make([]cachedSymbol, len(p.Symbols))
		for i, s := range p.Symbols {
			c.S[i] = cachedSymbol{N: s.Name, K: s.Kind, A: s.StartLine, B: s.EndLine, G: s.Signature}
		}
	}
	return json.Marshal(c)
}

func decodeParsed(b []byte) (Parsed, error) {
	var c cachedParsed
	if err := json.Unmarshal(b, &c); err != nil {
		return Parsed{}, err
	}
	p := Parsed{Refs: c.R}
	if len(c.S) > 0 {
		p.Symbols = make([]ingest.Symbol, len(c.S))
		for i, s := range c.S {
			p.Symbols[i] = ingest.Symbol{Name: s.N, Kind: s.K, StartLine: s.A, EndLine: s.B, Signature: s.G}
		}
	}
	return p, nil
}
