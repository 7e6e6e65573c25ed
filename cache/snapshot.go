package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// SnapshotFormat is the snapshot format version written by SaveSnapshot.
const SnapshotFormat = 1

const (
	snapshotMagic  = "LOREKV01"
	snapshotExt    = ".kv"
	tempMarker     = ".tmp-"
	prefixLen      = len(snapshotMagic) + 4 // magic + header length
	trailerLen     = sha256.Size
	maxHeaderLen   = 256 << 20
	maxNameLen     = 200
	ioBufferSize   = 1 << 20
	hashChunkBytes = 8 << 20
)

// Settings are the context settings a KV state depends on: a state saved
// under other settings cannot be restored.
type Settings struct {
	ContextSize    int    `json:"context_size"`
	FlashAttention bool   `json:"flash_attention"`
	KVType         string `json:"kv_type"`
	Sequences      int    `json:"sequences"`
}

// SegmentMark marks where a pack segment ends in the snapshot's tokens.
type SegmentMark struct {
	Chain string `json:"chain"` // chain hash of the segment
	End   int    `json:"end"`   // token offset (exclusive) in Tokens where the segment ends
}

// SnapshotHeader describes a saved KV state.
type SnapshotHeader struct {
	Format           int           `json:"format"` // snapshot format version (SnapshotFormat)
	ModelFingerprint string        `json:"model_fingerprint"`
	Settings         Settings      `json:"settings"`
	Tokens           []int32       `json:"tokens"` // tokens held by sequence 0, in order
	Segments         []SegmentMark `json:"segments"`
	StateSize        int64         `json:"state_size"`
	StateSHA256      string        `json:"state_sha256"` // filled by SaveSnapshot
	Created          time.Time     `json:"created"`      // filled by SaveSnapshot
}

// ErrNoSnapshot is returned by LoadSnapshot when there is no snapshot of
// that name.
var ErrNoSnapshot = errors.New("cache: no such snapshot")

// CorruptError reports a snapshot that failed verification. The snapshot has
// been deleted.
type CorruptError struct {
	Name   string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("cache: snapshot %q was corrupt and has been discarded: %s", e.Name, e.Reason)
}

// SnapshotInfo is the index entry of a snapshot.
type SnapshotInfo struct {
	Name             string
	Size             int64
	Created          time.Time
	LastUsed         time.Time
	Tokens           int
	ModelFingerprint string
}

// indexRecord is the badger record kept per snapshot.
type indexRecord struct {
	Size             int64     `json:"size"`
	Created          time.Time `json:"created"`
	LastUsed         time.Time `json:"last_used"`
	Tokens           int       `json:"tokens"`
	ModelFingerprint string    `json:"model_fingerprint"`
}

// ValidName reports whether name may be used as a snapshot name: 1 to 200
// characters from [A-Za-z0-9._-], not containing "..".
func ValidName(name string) bool {
	if name == "" || len(name) > maxNameLen || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("cache: invalid snapshot name %q (want 1-%d characters of [A-Za-z0-9._-], no \"..\")", name, maxNameLen)
	}
	return nil
}

// SnapshotPath returns the file path of a snapshot.
func (s *Store) SnapshotPath(name string) string {
	return filepath.Join(s.snapDir, name+snapshotExt)
}

func (s *Store) lockName(name string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(name))
	return &s.snapLocks[h.Sum32()%uint32(len(s.snapLocks))]
}

// SaveSnapshot writes a snapshot, replacing any previous one of that name
// atomically: a crash at any moment leaves the previous complete snapshot or
// the new complete one. It fills in h.Format, h.StateSize (which, when set,
// must equal len(state)), h.StateSHA256 and h.Created.
func (s *Store) SaveSnapshot(name string, h SnapshotHeader, state []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if h.StateSize != 0 && h.StateSize != int64(len(state)) {
		return fmt.Errorf("cache: snapshot %q: header says %d state bytes, got %d", name, h.StateSize, len(state))
	}
	if err := checkSegments(h); err != nil {
		return fmt.Errorf("cache: snapshot %q: %v", name, err)
	}
	h.Format = SnapshotFormat
	h.StateSize = int64(len(state))
	sum := sha256.Sum256(state)
	h.StateSHA256 = hex.EncodeToString(sum[:])
	h.Created = time.Now().UTC()
	hdr, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("cache: snapshot %q: encode header: %w", name, err)
	}
	if len(hdr) > maxHeaderLen {
		return fmt.Errorf("cache: snapshot %q: header of %d bytes is too large", name, len(hdr))
	}

	mu := s.lockName(name)
	mu.Lock()
	defer mu.Unlock()

	// Checked before writing: a snapshot that takes the last free bytes
	// would leave badger none (disk.go).
	need := int64(prefixLen + len(hdr) + len(state) + trailerLen)
	if err := s.checkDisk(fmt.Sprintf("snapshot %q (%s)", name, mib(need)), need); err != nil {
		return err
	}
	final := s.SnapshotPath(name)
	f, err := os.CreateTemp(s.snapDir, name+snapshotExt+tempMarker+"*")
	if err != nil {
		return fmt.Errorf("cache: snapshot %q: %w", name, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	size, err := writeSnapshot(f, hdr, state)
	if err != nil {
		return fmt.Errorf("cache: snapshot %q: write: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cache: snapshot %q: sync: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cache: snapshot %q: close: %w", name, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("cache: snapshot %q: %w", name, err)
	}
	ok = true
	if err := syncDir(s.snapDir); err != nil {
		return fmt.Errorf("cache: snapshot %q: sync directory: %w", name, err)
	}
	rec := indexRecord{Size: size, Created: h.Created, LastUsed: h.Created, Tokens: len(h.Tokens), ModelFingerprint: h.ModelFingerprint}
	return s.putIndex(name, rec)
}

// LoadSnapshot reads and fully verifies a snapshot: magic, format version,
// header, sizes, the file checksum and the state checksum. A snapshot that
// fails verification is deleted (file and index record) and returned as
// *CorruptError; a missing one is ErrNoSnapshot. The returned state is the
// only copy made.
func (s *Store) LoadSnapshot(name string) (SnapshotHeader, []byte, error) {
	if err := checkName(name); err != nil {
		return SnapshotHeader{}, nil, err
	}
	mu := s.lockName(name)
	mu.Lock()
	defer mu.Unlock()

	h, state, size, err := readSnapshot(s.SnapshotPath(name), true)
	if errors.Is(err, os.ErrNotExist) {
		_ = s.del([]byte(prefixSnapshot + name)) // a stale index record, if any
		return SnapshotHeader{}, nil, ErrNoSnapshot
	}
	var ce *corruptErr
	if errors.As(err, &ce) {
		s.log.Warn("discarding corrupt snapshot", "name", name, "reason", ce.reason)
		if derr := s.deleteSnapshotLocked(name); derr != nil {
			s.log.Warn("cannot delete corrupt snapshot", "name", name, "error", derr)
		}
		return SnapshotHeader{}, nil, &CorruptError{Name: name, Reason: ce.reason}
	}
	if err != nil {
		return SnapshotHeader{}, nil, fmt.Errorf("cache: snapshot %q: %w", name, err)
	}
	rec := indexRecord{Size: size, Created: h.Created, LastUsed: time.Now().UTC(), Tokens: len(h.Tokens), ModelFingerprint: h.ModelFingerprint}
	if err := s.putIndex(name, rec); err != nil && !errors.Is(err, ErrDiskFull) {
		s.log.Warn("cannot update snapshot index", "name", name, "error", err)
	}
	return h, state, nil
}

// LoadSnapshotHeader reads only a snapshot's header, to judge it before
// reading its state. The header's own checksum is verified; the state's is
// verified by LoadSnapshot.
func (s *Store) LoadSnapshotHeader(name string) (SnapshotHeader, error) {
	if err := checkName(name); err != nil {
		return SnapshotHeader{}, err
	}
	mu := s.lockName(name)
	mu.Lock()
	defer mu.Unlock()
	h, _, _, err := readSnapshot(s.SnapshotPath(name), false)
	if errors.Is(err, os.ErrNotExist) {
		return SnapshotHeader{}, ErrNoSnapshot
	}
	var ce *corruptErr
	if errors.As(err, &ce) {
		return SnapshotHeader{}, &CorruptError{Name: name, Reason: ce.reason}
	}
	return h, err
}

// DeleteSnapshot deletes a snapshot (file and index record). Deleting a
// missing snapshot is not an error.
func (s *Store) DeleteSnapshot(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	mu := s.lockName(name)
	mu.Lock()
	defer mu.Unlock()
	return s.deleteSnapshotLocked(name)
}

func (s *Store) deleteSnapshotLocked(name string) error {
	err := os.Remove(s.SnapshotPath(name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cache: delete snapshot %q: %w", name, err)
	}
	if err == nil {
		_ = syncDir(s.snapDir)
	}
	// On a full disk the index record stays; Snapshots drops it, as the
	// file is gone.
	if err := s.del([]byte(prefixSnapshot + name)); err != nil && !errors.Is(err, ErrDiskFull) {
		return err
	}
	return nil
}

func (s *Store) putIndex(name string, rec indexRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.set([]byte(prefixSnapshot+name), b)
}

// Snapshots lists the snapshots on disk, sorted by name. It reconciles the
// index with the directory: a file without an index record (or whose size
// disagrees with it) gets one from its header, and records without a file are
// dropped. A file whose header cannot be read is still listed (with its size
// and modification time) so that eviction can remove it.
func (s *Store) Snapshots() ([]SnapshotInfo, error) {
	index := map[string]indexRecord{}
	err := s.view(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		p := []byte(prefixSnapshot)
		opt.Prefix = p
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			name := string(it.Item().Key()[len(p):])
			var rec indexRecord
			err := it.Item().Value(func(v []byte) error {
				p, ok := unseal(v)
				if !ok {
					return errors.New("damaged index record")
				}
				return json.Unmarshal(p, &rec)
			})
			if err != nil {
				rec = indexRecord{Size: -1} // rebuilt below if the file exists
			}
			index[name] = rec
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: list snapshots: %w", err)
	}

	ents, err := os.ReadDir(s.snapDir)
	if err != nil {
		return nil, fmt.Errorf("cache: list snapshots: %w", err)
	}
	var out []SnapshotInfo
	seen := map[string]bool{}
	for _, e := range ents {
		fn := e.Name()
		if !strings.HasSuffix(fn, snapshotExt) || !e.Type().IsRegular() {
			continue
		}
		name := strings.TrimSuffix(fn, snapshotExt)
		if !ValidName(name) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		seen[name] = true
		rec, ok := index[name]
		if !ok || rec.Size != fi.Size() {
			rec = indexRecord{Size: fi.Size(), Created: fi.ModTime().UTC(), LastUsed: fi.ModTime().UTC()}
			if h, _, _, err := readSnapshot(filepath.Join(s.snapDir, fn), false); err == nil {
				rec.Created, rec.LastUsed = h.Created, h.Created
				rec.Tokens, rec.ModelFingerprint = len(h.Tokens), h.ModelFingerprint
			}
			if err := s.putIndex(name, rec); err != nil && !errors.Is(err, ErrDiskFull) {
				s.log.Warn("cannot update snapshot index", "name", name, "error", err)
			}
		}
		out = append(out, SnapshotInfo{
			Name: name, Size: rec.Size, Created: rec.Created, LastUsed: rec.LastUsed,
			Tokens: rec.Tokens, ModelFingerprint: rec.ModelFingerprint,
		})
	}
	for name := range index {
		if !seen[name] {
			// Only drop the record if the file is really gone (not saved meanwhile).
			if _, err := os.Lstat(s.SnapshotPath(name)); errors.Is(err, os.ErrNotExist) {
				_ = s.del([]byte(prefixSnapshot + name))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// removeStaleTemps removes temporary files left by a save that crashed.
func (s *Store) removeStaleTemps() {
	ents, err := os.ReadDir(s.snapDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		fn := e.Name()
		// Temporary names are <name>.kv.tmp-<random>; a snapshot always ends in .kv.
		if !strings.Contains(fn, tempMarker) || strings.HasSuffix(fn, snapshotExt) {
			continue
		}
		if err := os.Remove(filepath.Join(s.snapDir, fn)); err != nil {
			s.log.Warn("cannot remove stale temporary snapshot", "file", fn, "error", err)
		} else {
			s.log.Info("removed stale temporary snapshot", "file", fn)
		}
	}
}

// ValidPrefix returns how many leading segments of the header are still
// valid for the current chain hashes (the first index where they differ),
// and the number of tokens they cover (the End of the last valid segment, 0
// if none).
func ValidPrefix(h SnapshotHeader, chains []string) (segments int, tokens int) {
	for segments < len(h.Segments) && segments < len(chains) && h.Segments[segments].Chain == chains[segments] {
		segments++
	}
	if segments > 0 {
		tokens = h.Segments[segments-1].End
	}
	return segments, tokens
}
