// Package cache is lore's per-repository persistent store.
//
// A Store lives in one directory and holds two kinds of data, kept apart on
// purpose:
//
//   - Small records go to a badger database in dir/badger: token arrays per
//     segment content (keyed by tokenizer fingerprint and content hash), and
//     generic namespaced values (configuration, later parse results and
//     session transcripts), plus one index record per KV snapshot.
//
//   - KV snapshots (the saved state of the engine's sequence 0: tens to
//     hundreds of MB) are plain files, dir/snapshots/<name>.kv. They are
//     large, always replaced whole, and must survive a crash at any moment,
//     which a key-value store does not do well for values of that size (the
//     value log would keep every old version until garbage collection, and a
//     torn write would only be found when read). A file written to a
//     temporary name, fsynced, renamed over the final name and followed by an
//     fsync of the directory gives exactly "the old snapshot or the new one,
//     never a torn one": rename is atomic, and the temporary file is never
//     seen under the final name before it is complete.
//
// The index record of a snapshot (name, size, created, last used, token count,
// model fingerprint) lives in badger so that the later size-bounded LRU
// eviction can choose victims without opening large files. The files are the
// source of truth: Snapshots reconciles the index with the directory (a file
// without a record gets one, a record without a file is dropped), and
// LoadSnapshot does not need the record at all.
//
// # Snapshot file format (format 1)
//
//	"LOREKV01"            8 bytes magic
//	header length         uint32, little-endian
//	header                JSON (SnapshotHeader), including StateSHA256
//	state                 StateSize bytes
//	sha256                32 bytes over everything before it
//
// LoadSnapshot verifies the magic, the format version, the header, every size
// (header length, state length against the file size, segment offsets against
// the token count), the trailing checksum of the whole file and the checksum
// of the state. A snapshot that fails any of these checks is deleted (file
// and index record) and reported as *CorruptError: the cache is only a cache,
// and the caller re-prefills. Stale temporary files left by a crash during a
// save are removed by Open.
//
// Writes go through a buffered writer; the state is written straight from the
// caller's slice, and LoadSnapshot reads the state straight into the one
// slice it returns, so neither makes an extra copy of a large state.
//
// # Robustness
//
// Open never fails because the database is damaged: a badger directory that
// cannot be opened (an error, or a panic inside badger) is moved aside to
// dir/badger.corrupt-<unix time>, logged through slog, and recreated empty.
// Only the last one moved aside is kept (for diagnosis); every Open removes
// older ones.
// Only errors that moving aside cannot fix (another process holds the lock,
// permissions, a full disk) are returned. What a killed process leaves
// behind normally is not damage: an empty value log (killed while rotating
// it) is dropped, and a table the manifest does not name (killed during a
// flush or compaction) is left for badger to delete. Badger's own logging is
// routed to slog at warning and error level only.
//
// A Store is safe for concurrent use by multiple goroutines. It is meant to be
// used by one process at a time (badger holds a directory lock).
package cache
