package ingest

import (
	"encoding/json"
	"strconv"
	"sync"
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

// parseCache fills the symbols and references of scanned files, through a
// KV when there is one. Scan reads files in parallel: the KV is used by one
// goroutine at a time, so any KV implementation is safe here.
type parseCache struct {
	kv KV
	mu sync.Mutex
}

// fill sets f.Symbols and f.Refs for a file in a language Parse supports.
// A cached result is used as is; a fresh one is stored unless the parse
// failed. Cache errors only cost a parse.
func (c *parseCache) fill(f *File) {
	if grammarFor(f.Lang) == nil {
		return
	}
	var kv KV
	if c != nil {
		kv = c.kv
	}
	var key string
	if kv != nil {
		key = ParseCacheKey(f.Lang, f.Hash)
		c.mu.Lock()
		val, ok, err := kv.Get(key)
		c.mu.Unlock()
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
	c.mu.Lock()
	_ = kv.Put(key, val)
	c.mu.Unlock()
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
		p.Symbols = make([]Symbol, len(c.S))
		for i, s := range c.S {
			p.Symbols[i] = Symbol{Name: s.N, Kind: s.K, StartLine: s.A, EndLine: s.B, Signature: s.G}
		}
	}
	return p, nil
}

// verdictCacheVersion is the N of "verdict/vN/HASH/PATH" keys: bump it when
// the secret or generated-code rules change.
const verdictCacheVersion = 1

func verdictKey(path, hash string) string {
	return "verdict/v" + strconv.Itoa(verdictCacheVersion) + "/" + hash + "/" + path
}

// verdict returns the cached content verdict of a file ("" keeps it, or the
// reason it is skipped): secret scanning is the costliest part of a warm
// scan, and it depends only on the path and the content.
func (c *parseCache) verdict(path, hash string) (string, bool) {
	if c == nil || c.kv == nil {
		return "", false
	}
	c.mu.Lock()
	val, ok, err := c.kv.Get(verdictKey(path, hash))
	c.mu.Unlock()
	if err != nil || !ok {
		return "", false
	}
	return string(val), true
}

func (c *parseCache) putVerdict(path, hash, reason string) {
	if c == nil || c.kv == nil {
		return
	}
	c.mu.Lock()
	c.kv.Put(verdictKey(path, hash), []byte(reason))
	c.mu.Unlock()
}
