package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
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
	// Snapshot names reveal branches and sessions: private, as the
	// folders above it that this creates.
	if err := os.MkdirAll(snapDir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: create store directory: %w", err)
	}
	if err := os.Chmod(snapDir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: make %s private: %w", snapDir, err)
	}

	bdir := filepath.Join(dir, badgerDirName)
	if dropEmptyValueLogs(bdir) {
		log.Info("removed empty value log files left by a crash")
	}
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
