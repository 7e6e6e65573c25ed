package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
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
	badgerLockFile  = "LOCK" // badger's directory lock (flock), in badgerDirName
	snapshotDirName = "snapshots"
	corruptMarker   = ".corrupt-"
	keepCorrupt     = 1 // moved-aside databases kept for diagnosis: the last one
	gcInterval      = 10 * time.Minute
	maxUserKey      = 4096
)

// Store is a per-repository persistent store: small records in badger,
// KV snapshots as files. See the package documentation.
type Store struct {
	dir     string
	snapDir string
	log     *slog.Logger
	guard   *diskGuard

	// dbMu is held shared by every use of db, and exclusively to swap an
	// in-memory database for the one on disk.
	dbMu       sync.RWMutex
	db         *badger.DB
	inMemory   bool            // db is in memory: the disk was full at Open
	memMu      sync.Mutex      // guards memDeleted
	memDeleted map[string]bool // keys written (false) or deleted (true) while in memory
	memory     atomic.Bool     // inMemory, readable without dbMu
	lastTry    atomic.Int64    // unix nanoseconds of the last tryDisk
	fullLogAt  atomic.Int64    // unix nanoseconds of the last "disk full" line
	fullLogged atomic.Bool     // it is the latest disk line logged

	snapLocks [32]sync.Mutex // striped by snapshot name

	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
	wg        sync.WaitGroup
}

// Open opens the store in dir, creating dir, dir/badger and dir/snapshots as
// needed. A badger database that cannot be opened because it is damaged is
// moved aside to dir/badger.corrupt-<unix time> and recreated; this is logged.
// Stale temporary snapshot files from an interrupted save are removed. When
// the file system is too full for badger to write safely (see disk.go), the
// records are kept in memory until there is room (Disk says so).
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
	// Snapshot names reveal branches and sessions: private, as the
	// folders above it that this creates.
	if err := os.MkdirAll(snapDir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: create store directory: %w", err)
	}
	if err := os.Chmod(snapDir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: make %s private: %w", snapDir, err)
	}

	bdir := filepath.Join(dir, badgerDirName)
	// Earlier versions kept several, and only pruned when moving one aside.
	pruneCorrupt(dir, log)
	s := &Store{dir: dir, snapDir: snapDir, log: log, stop: make(chan struct{}),
		guard: &diskGuard{dir: dir, bdir: bdir}}
	if _, err := s.guard.check("the database", 0); err != nil {
		// Even opening badger writes (and on tmpfs, reads) through its
		// mappings: do not touch it.
		log.Warn("disk full: keeping the cache in memory until there is room", "error", err)
		if s.db, err = openMemory(log); err != nil {
			return nil, fmt.Errorf("cache: open database in memory: %w", err)
		}
		s.inMemory = true
		s.memory.Store(true)
		s.memDeleted = map[string]bool{}
	} else if s.db, err = openDisk(dir, bdir, log); err != nil {
		return nil, err
	}
	// The database lock is held now, so no other store writes to snapDir
	// (in memory, the daemon's own lock is what keeps others out).
	s.removeStaleTemps()
	_ = syncDir(snapDir)
	s.wg.Add(1)
	go s.gcLoop()
	return s, nil
}

// openDisk opens the database in bdir, moving a damaged one aside.
func openDisk(dir, bdir string, log *slog.Logger) (*badger.DB, error) {
	if dropEmptyValueLogs(bdir) {
		log.Info("removed empty value log files left by a crash")
	}
	db, err := openBadger(bdir, log)
	if err == nil {
		return db, nil
	}
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
	return db, nil
}

// Close closes the database. It is safe to call more than once. Records kept
// in memory for want of disk space are written to disk first when there is
// room now. When there is not even room for badger to flush its memtable, the
// database is left as a crash would leave it (its write-ahead log is replayed
// at the next open) rather than crash the process, and Close returns a
// *DiskFullError.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.tryDisk()
		s.dbMu.Lock()
		defer s.dbMu.Unlock()
		if s.inMemory {
			s.log.Warn("disk full: the records kept in memory are lost", "dir", s.dir)
			s.closeErr = s.db.Close()
			return
		}
		// Badger retries its final flush forever when its folder is gone
		// (the state folder deleted under a running daemon): with nothing
		// left to keep, let it go.
		bdir := filepath.Join(s.dir, badgerDirName)
		if _, err := os.Stat(bdir); errors.Is(err, os.ErrNotExist) {
			s.closeErr = fmt.Errorf("cache: %s vanished while open; nothing was saved", s.dir)
			return
		}
		need := allocatedBytes(filepath.Join(bdir, "*.mem")) + closeMargin
		if free, err := freeBytes(s.dir); err == nil && free < need {
			s.closeErr = &DiskFullError{What: "the database's last flush", Dir: s.dir, Free: free, Need: need}
			s.log.Warn("disk full: not closing the database; its write-ahead log is replayed at the next start", "free", free, "need", need)
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
	recheck := time.NewTicker(diskRecheck)
	defer recheck.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-recheck.C:
			// Nothing else may write for a while: notice space coming back.
			if s.memory.Load() || s.guard.status().Full {
				s.Disk()
			}
		case <-t.C:
			for i := 0; i < 16; i++ {
				select {
				case <-s.stop:
					return
				default:
				}
				if s.runGC() != nil {
					break
				}
			}
		}
	}
}

// runGC rewrites one value log file's live values into the current one, so
// it needs up to a value log file's room.
func (s *Store) runGC() error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.inMemory {
		return badger.ErrGCInMemoryMode
	}
	if err := s.checkDisk("value log garbage collection", valueLogFileSize); err != nil {
		return err
	}
	return s.db.RunValueLogGC(0.5)
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
