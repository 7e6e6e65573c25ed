package scan

import (
	"strconv"
	"sync"

	"lore/ingest"
	"lore/ingest/syntax"
)

// parseCache is the scan's view of Options.Cache: parse results (through
// syntax.Fill) and content verdicts. Scan reads files in parallel: the KV is
// used by one goroutine at a time, so any KV implementation is safe here.
type parseCache struct {
	kv ingest.KV
	mu sync.Mutex
}

// fill sets f.Symbols and f.Refs, through the cache when there is one.
func (c *parseCache) fill(f *ingest.File) {
	if c == nil || c.kv == nil {
		syntax.Fill(f, nil)
		return
	}
	syntax.Fill(f, c)
}

// Get and Put make the cache the KV that syntax.Fill uses, one goroutine at
// a time.
func (c *parseCache) Get(key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kv.Get(key)
}

func (c *parseCache) Put(key string, val []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kv.Put(key, val)
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
