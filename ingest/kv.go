package ingest

// KV is the small persistent key-value store ingest caches into (parse
// results by blob hash, git history heat). cache.Store implements it; a nil
// KV disables caching.
type KV interface {
	Get(key string) ([]byte, bool, error)
	Put(key string, val []byte) error
}
