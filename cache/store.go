package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
)

// Key namespaces inside the badger database. User keys (Get/Put/Delete) live
// under their own prefix so they can never collide with internal records.
const (
	prefixTokens   = "tok/"
	prefixSnapshot = "snap/"
	prefixUser     = "kv/"
)

const (
	badgerDirName   = "badger"
	snapshotDirName = "snapshots"
	corruptMarker   = ".corrupt-"
	keepCorrupt     = 3 // moved-aside databases kept for diagnosis
	gcInterval      = 10 * time.Minute
	maxUserKey      = 4096
)

// Store is a per-repository persistent store: small records in badger,
// KV snapshots as files. See the package documentation.
type Store struct {
	dir     string
	snapDir string
	db      *badger.DB
	log     *slog.Logger

	snapLocks [32]sync.Mutex // striped by snapshot name

	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
	wg        sync.WaitGroup
}

// Open opens the store in dir, creating dir, dir/badger and dir/snapshots as
// needed. A badger database that cannot be opened because it is damaged is
// moved aside to dir/badger.corrupt-<unix time> and recreated; this is logged.
// Stale temporary snapshot files from an interrupted save are removed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("cache: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	dir = abs
	log := slog.Default().With("component", "cache")
	snapDir := filepath.Join(dir, snapshotDirName)
	if err := os.MkdirAll(snapDir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: create store directory: %w", err)
	}

	bdir := filepath.Join(dir, badgerDirName)
	db, err := openBadger(bdir, log)
	if err != nil {
		if !repairable(err) {
			return nil, fmt.Errorf("cache: open database: %w", err)
		}
		aside, merr := moveAside(dir, bdir)
		if merr != nil {
			return nil, fmt.Errorf("cache: open database: %w (and moving it aside failed: %v)", err, merr)
		}
		log.Warn("cache database was unreadable; moved aside and recreated empty",
			"error", err, "moved_to", aside)
		pruneCorrupt(dir, log)
		db, err = openBadger(bdir, log)
		if err != nil {
			return nil, fmt.Errorf("cache: recreate database: %w", err)
		}
	}

	s := &Store{dir: dir, snapDir: snapDir, db: db, log: log, stop: make(chan struct{})}
	// The database lock is held now, so no other store writes to snapDir.
	s.removeStaleTemps()
	_ = syncDir(snapDir)
	s.wg.Add(1)
	go s.gcLoop()
	return s, nil
}

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		// Badger retries its final flush forever when its folder is gone
		// (the state folder deleted under a running daemon): with nothing
		// left to keep, let it go.
		if _, err := os.Stat(filepath.Join(s.dir, badgerDirName)); errors.Is(err, os.ErrNotExist) {
			s.closeErr = fmt.Errorf("cache: %s vanished while open; nothing was saved", s.dir)
			return
		}
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// Dir returns the store's directory (absolute).
func (s *Store) Dir() string { return s.dir }

func (s *Store) gcLoop() {
	defer s.wg.Done()
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for i := 0; i < 16; i++ {
				select {
				case <-s.stop:
					return
				default:
				}
				if s.db.RunValueLogGC(0.5) != nil {
					break
				}
			}
		}
	}
}

// badgerOptions keeps badger small: this is a per-repository cache on a
// developer machine, not a server database.
func badgerOptions(path string, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(path).
		WithLogger(badgerLogger{log}).
		WithMetricsEnabled(false).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(16 << 20).
		WithValueThreshold(64 << 10).
		WithValueLogFileSize(128 << 20).
		WithDetectConflicts(false).
		// Verify value checksums when values are read from the value log:
		// a damaged record must fail rather than come back wrong. Tables
		// are verified by checkTables before badger opens them.
		WithVerifyValueChecksum(true)
}

// openBadger opens the database, turning a panic inside badger (which it
// does on some kinds of damage) into an error.
func openBadger(path string, log *slog.Logger) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, &badgerPanic{r}
		}
	}()
	if err := checkTables(path); err != nil {
		return nil, err
	}
	return badger.Open(badgerOptions(path, log))
}

// checkTables verifies every table file of the database (index and block
// checksums) before badger opens it. Badger opens tables on goroutines of its
// own, where a damaged table panics beyond any recover of ours, and it skips
// tables whose checksum fails (which can bring older versions of a key back).
// Here a damaged table is an error, and the database is moved aside.
func checkTables(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil {
		return err
	}
	topt := &table.Options{
		ChkMode:     options.OnTableRead,
		BlockSize:   badger.DefaultOptions("").BlockSize,
		Compression: badger.DefaultOptions("").Compression,
	}
	for _, f := range files {
		if err := checkTable(f, topt); err != nil {
			return fmt.Errorf("table %s: %w", filepath.Base(f), err)
		}
	}
	return nil
}

func checkTable(path string, topt *table.Options) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("damaged: %v", firstLine(fmt.Sprint(r)))
		}
	}()
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed meanwhile; badger reports a missing table itself
		}
		return err
	}
	id, _ := table.ParseFileID(filepath.Base(path))
	t, err := table.OpenInMemoryTable(data, id, topt)
	if err != nil {
		return err
	}
	return t.VerifyChecksum()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type badgerPanic struct{ v any }

func (p *badgerPanic) Error() string { return fmt.Sprintf("badger panicked: %v", p.v) }

// repairable reports whether moving the database aside can cure err. Badger
// flattens wrapped errors into strings, so this matches on text.
func repairable(err error) bool {
	if errors.Is(err, os.ErrPermission) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{
		"cannot acquire directory lock", // another process has it open
		"permission denied",
		"read-only file system",
		"no space left",
		"too many open files",
		"cannot allocate memory",
	} {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

// moveAside renames bdir to dir/badger.corrupt-<unix time> (with a numeric
// suffix if that exists) and returns the new path.
func moveAside(dir, bdir string) (string, error) {
	base := filepath.Join(dir, badgerDirName+corruptMarker+strconv.FormatInt(time.Now().Unix(), 10))
	target := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
			break
		}
		target = base + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(bdir, target); err != nil {
		return "", err
	}
	_ = syncDir(dir)
	return target, nil
}

// pruneCorrupt removes all but the newest keepCorrupt moved-aside databases.
func pruneCorrupt(dir string, log *slog.Logger) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type aside struct {
		name string
		mod  time.Time
	}
	var list []aside
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), badgerDirName+corruptMarker) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		list = append(list, aside{e.Name(), info.ModTime()})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].mod.After(list[j].mod) })
	for i := keepCorrupt; i < len(list); i++ {
		if err := os.RemoveAll(filepath.Join(dir, list[i].name)); err != nil {
			log.Warn("cannot remove old moved-aside database", "path", list[i].name, "error", err)
		}
	}
}

// badgerLogger routes badger's warnings and errors to slog and drops its
// informational chatter.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

// --- generic values ---

func userKey(key string) ([]byte, error) {
	if key == "" {
		return nil, errors.New("cache: empty key")
	}
	if len(key) > maxUserKey {
		return nil, fmt.Errorf("cache: key longer than %d bytes", maxUserKey)
	}
	return []byte(prefixUser + key), nil
}

// Get returns the value stored under key, and whether there was one.
func (s *Store) Get(key string) ([]byte, bool, error) {
	k, err := userKey(key)
	if err != nil {
		return nil, false, err
	}
	return s.get(k)
}

// Put stores val under key, replacing any previous value.
func (s *Store) Put(key string, val []byte) error {
	k, err := userKey(key)
	if err != nil {
		return err
	}
	return s.set(k, val)
}

// Delete removes key. Deleting a missing key is not an error.
func (s *Store) Delete(key string) error {
	k, err := userKey(key)
	if err != nil {
		return err
	}
	return s.del(k)
}

// Keys returns the keys (as given to Put) that start with prefix, sorted.
func (s *Store) Keys(prefix string) ([]string, error) {
	var out []string
	p := []byte(prefixUser + prefix)
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		opt.Prefix = p
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			out = append(out, string(it.Item().Key()[len(prefixUser):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: list keys: %w", err)
	}
	return out, nil
}

// Every value is stored in an envelope: a version byte, the CRC-32C of the
// payload (little-endian) and the payload. Badger returns an empty value,
// without an error, when it cannot read a value from a damaged value log;
// the envelope turns that (and any other damage) into a detected miss.
const (
	envelopeVersion = 1
	envelopeLen     = 5
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func seal(payload []byte) []byte {
	b := make([]byte, envelopeLen, envelopeLen+len(payload))
	b[0] = envelopeVersion
	binary.LittleEndian.PutUint32(b[1:], crc32.Checksum(payload, crcTable))
	return append(b, payload...)
}

func unseal(b []byte) ([]byte, bool) {
	if len(b) < envelopeLen || b[0] != envelopeVersion {
		return nil, false
	}
	p := b[envelopeLen:]
	return p, binary.LittleEndian.Uint32(b[1:]) == crc32.Checksum(p, crcTable)
}

// get returns the payload under k. A damaged record is logged, deleted and
// reported as a miss: the cache recomputes what it lost.
func (s *Store) get(k []byte) ([]byte, bool, error) {
	var val []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(k)
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache: get: %w", err)
	}
	p, ok := unseal(val)
	if !ok {
		s.log.Warn("dropping damaged record", "key", printableKey(k))
		_ = s.del(k)
		return nil, false, nil
	}
	return p, true, nil
}

func printableKey(k []byte) string {
	if len(k) > 200 {
		k = k[:200]
	}
	return strconv.QuoteToASCII(string(k))
}

func (s *Store) set(k, v []byte) error {
	sealed := seal(v)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(k, sealed) }); err != nil {
		return fmt.Errorf("cache: put: %w", err)
	}
	return nil
}

func (s *Store) del(k []byte) error {
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(k) }); err != nil {
		return fmt.Errorf("cache: delete: %w", err)
	}
	return nil
}

// --- token arrays ---

// tokensEncoding is the first byte of an encoded token array: zigzag varints.
const tokensEncoding = 1

func tokensKey(tokenizer, contentHash string) ([]byte, error) {
	if tokenizer == "" || contentHash == "" {
		return nil, errors.New("cache: empty tokenizer fingerprint or content hash")
	}
	if len(tokenizer)+len(contentHash) > maxUserKey {
		return nil, errors.New("cache: tokenizer fingerprint and content hash too long")
	}
	// Length-prefix the tokenizer so that no pair of strings can collide.
	return []byte(prefixTokens + strconv.Itoa(len(tokenizer)) + ":" + tokenizer + contentHash), nil
}

// Tokens returns the token array cached for a segment content under a
// tokenizer, and whether there was one. A damaged record is dropped and
// reported as a miss.
func (s *Store) Tokens(tokenizer, contentHash string) ([]int32, bool, error) {
	k, err := tokensKey(tokenizer, contentHash)
	if err != nil {
		return nil, false, err
	}
	raw, ok, err := s.get(k)
	if err != nil || !ok {
		return nil, false, err
	}
	toks, err := decodeTokens(raw)
	if err != nil {
		s.log.Warn("dropping damaged token record", "tokenizer", tokenizer, "content", contentHash, "error", err)
		_ = s.del(k)
		return nil, false, nil
	}
	return toks, true, nil
}

// PutTokens caches the token array of a segment content under a tokenizer.
func (s *Store) PutTokens(tokenizer, contentHash string, toks []int32) error {
	k, err := tokensKey(tokenizer, contentHash)
	if err != nil {
		return err
	}
	return s.set(k, encodeTokens(toks))
}

func encodeTokens(toks []int32) []byte {
	// Most token ids are below 2^20: about 3 bytes each.
	buf := make([]byte, 0, 1+binary.MaxVarintLen64+3*len(toks))
	buf = append(buf, tokensEncoding)
	buf = binary.AppendUvarint(buf, uint64(len(toks)))
	for _, t := range toks {
		buf = binary.AppendVarint(buf, int64(t))
	}
	return buf
}

func decodeTokens(b []byte) ([]int32, error) {
	if len(b) == 0 || b[0] != tokensEncoding {
		return nil, errors.New("unknown token encoding")
	}
	b = b[1:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) { // each token takes at least one byte
		return nil, errors.New("bad token count")
	}
	b = b[w:]
	toks := make([]int32, n)
	for i := range toks {
		v, w := binary.Varint(b)
		if w <= 0 || v < -1<<31 || v > 1<<31-1 {
			return nil, errors.New("bad token value")
		}
		toks[i] = int32(v)
		b = b[w:]
	}
	if len(b) != 0 {
		return nil, errors.New("trailing bytes after tokens")
	}
	return toks, nil
}

// syncDir fsyncs a directory so that renames and creations in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
