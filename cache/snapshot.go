package cache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
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

// writeSnapshot writes the whole file format to w and returns its size. The
// header must already contain the state checksum.
func writeSnapshot(w io.Writer, hdr, state []byte) (int64, error) {
	fileHash := sha256.New()
	// bufio passes writes larger than its buffer straight through, so the
	// state is not copied.
	bw := bufio.NewWriterSize(io.MultiWriter(w, fileHash), ioBufferSize)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(hdr)))
	bw.WriteString(snapshotMagic)
	bw.Write(n[:])
	bw.Write(hdr)
	bw.Write(state)
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if _, err := w.Write(fileHash.Sum(nil)); err != nil {
		return 0, err
	}
	return int64(prefixLen + len(hdr) + len(state) + trailerLen), nil
}

// checkSegments checks that segment ends are ordered and within the tokens.
func checkSegments(h SnapshotHeader) error {
	prev := 0
	for i, m := range h.Segments {
		if m.End < prev || m.End > len(h.Tokens) {
			return fmt.Errorf("segment %d ends at %d (previous end %d, %d tokens)", i, m.End, prev, len(h.Tokens))
		}
		prev = m.End
	}
	return nil
}

// corruptErr marks a verification failure (as opposed to an I/O error).
type corruptErr struct{ reason string }

func (e *corruptErr) Error() string { return e.reason }

func corruptf(format string, a ...any) error { return &corruptErr{fmt.Sprintf(format, a...)} }

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
	if err := s.putIndex(name, rec); err != nil {
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

// readSnapshot reads a snapshot file. With full set it reads and verifies
// the state and both checksums; otherwise it reads only the header (for
// rebuilding index records). Verification failures are *corruptErr.
func readSnapshot(path string, full bool) (SnapshotHeader, []byte, int64, error) {
	var h SnapshotHeader
	f, err := os.Open(path)
	if err != nil {
		return h, nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return h, nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return h, nil, 0, corruptf("not a regular file")
	}
	size := fi.Size()
	if size < int64(prefixLen+trailerLen) {
		return h, nil, 0, corruptf("truncated: %d bytes", size)
	}

	fileHash := sha256.New()
	br := bufio.NewReaderSize(f, ioBufferSize)
	r := io.TeeReader(br, fileHash)

	pre := make([]byte, prefixLen)
	if _, err := io.ReadFull(r, pre); err != nil {
		return h, nil, 0, readErr(err)
	}
	if string(pre[:len(snapshotMagic)]) != snapshotMagic {
		return h, nil, 0, corruptf("bad magic %q", pre[:len(snapshotMagic)])
	}
	hlen := int64(binary.LittleEndian.Uint32(pre[len(snapshotMagic):]))
	if hlen == 0 || hlen > maxHeaderLen || int64(prefixLen)+hlen+trailerLen > size {
		return h, nil, 0, corruptf("header length %d does not fit a file of %d bytes", hlen, size)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return h, nil, 0, readErr(err)
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return h, nil, 0, corruptf("header: %v", err)
	}
	if h.Format != SnapshotFormat {
		return h, nil, 0, corruptf("format version %d, want %d", h.Format, SnapshotFormat)
	}
	stateSize := size - int64(prefixLen) - hlen - trailerLen
	if h.StateSize != stateSize {
		return h, nil, 0, corruptf("header says %d state bytes, file holds %d", h.StateSize, stateSize)
	}
	if len(h.StateSHA256) != 2*sha256.Size {
		return h, nil, 0, corruptf("bad state checksum %q", h.StateSHA256)
	}
	if err := checkSegments(h); err != nil {
		return h, nil, 0, corruptf("%v", err)
	}
	if !full {
		return h, nil, size, nil
	}

	state := make([]byte, stateSize)
	stateSum, err := readHashed(r, state)
	if err != nil {
		return h, nil, 0, readErr(err)
	}
	want := fileHash.Sum(nil)
	trailer := make([]byte, trailerLen)
	if _, err := io.ReadFull(br, trailer); err != nil {
		return h, nil, 0, readErr(err)
	}
	if !bytes.Equal(want, trailer) {
		return h, nil, 0, corruptf("file checksum mismatch")
	}
	if hex.EncodeToString(stateSum) != h.StateSHA256 {
		return h, nil, 0, corruptf("state checksum mismatch")
	}
	return h, state, size, nil
}

// readHashed fills buf from r and returns the sha256 of buf. The state
// checksum is computed on a second goroutine, chunk by chunk as the chunks
// arrive, so that it overlaps with reading and with the file checksum that r
// computes.
func readHashed(r io.Reader, buf []byte) ([]byte, error) {
	chunks := make(chan []byte, 4)
	sum := make(chan []byte, 1)
	go func() {
		var hh hash.Hash = sha256.New()
		for c := range chunks {
			hh.Write(c)
		}
		sum <- hh.Sum(nil)
	}()
	var err error
	for off := 0; off < len(buf); {
		end := min(off+hashChunkBytes, len(buf))
		if _, err = io.ReadFull(r, buf[off:end]); err != nil {
			break
		}
		chunks <- buf[off:end]
		off = end
	}
	close(chunks)
	s := <-sum
	if err != nil {
		return nil, err
	}
	return s, nil
}

// readErr turns an unexpected end of file (the file shrank while being read)
// into a verification failure and passes other I/O errors through.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corruptf("truncated")
	}
	return err
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
	return s.del([]byte(prefixSnapshot + name))
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
	err := s.db.View(func(txn *badger.Txn) error {
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
			if err := s.putIndex(name, rec); err != nil {
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
