package cache

import (
	"path/filepath"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

const (
	// tryDiskEvery bounds how often writes to an in-memory store look for
	// room on disk (a statfs each).
	tryDiskEvery = time.Second
	// diskLogEvery bounds the "disk full" log lines.
	diskLogEvery = time.Minute
)

// view runs fn in a read transaction.
func (s *Store) view(fn func(*badger.Txn) error) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	return s.db.View(fn)
}

// update writes (or, with del, deletes) key k in a transaction of about n
// bytes, unless the disk is too full for badger to write safely: then it
// returns a *DiskFullError and writes nothing.
func (s *Store) update(what string, k []byte, n int, del bool, fn func(*badger.Txn) error) error {
	s.dbMu.RLock()
	mem := s.inMemory
	if !mem {
		if err := s.checkDisk(what, int64(n)); err != nil {
			s.dbMu.RUnlock()
			return err
		}
	}
	err := s.db.Update(fn)
	if mem && err == nil {
		s.memMu.Lock()
		s.memDeleted[string(k)] = del
		s.memMu.Unlock()
	}
	s.dbMu.RUnlock()
	if mem {
		s.tryDiskSoon()
	}
	return err
}

// checkDisk measures the free space before writing n bytes, and logs when
// the store stops or starts writing again: at most once a minute, as
// flushes and compactions freeing space make it flap.
func (s *Store) checkDisk(what string, n int64) error {
	changed, err := s.guard.check(what, n)
	if !changed {
		return err
	}
	st := s.guard.status()
	now := time.Now().UnixNano()
	if st.Full {
		if last := s.fullLogAt.Load(); now-last >= int64(diskLogEvery) && s.fullLogAt.CompareAndSwap(last, now) {
			s.fullLogged.Store(true)
			s.log.Warn("disk full: the cache stops writing (answers are not affected); it writes again once there is room",
				"dir", s.dir, "free", st.Free, "needed", st.Reserve)
		}
	} else if s.fullLogged.CompareAndSwap(true, false) {
		s.log.Info("disk space is back: the cache writes again", "dir", s.dir, "free", st.Free)
	}
	return err
}

func (s *Store) tryDiskSoon() {
	now := time.Now().UnixNano()
	last := s.lastTry.Load()
	if now-last < int64(tryDiskEvery) || !s.lastTry.CompareAndSwap(last, now) {
		return
	}
	s.tryDisk()
}

// tryDisk moves an in-memory store to disk when there is room now: it opens
// the database on disk, writes the records kept in memory into it (and the
// deletions made meanwhile), and uses it from then on.
func (s *Store) tryDisk() {
	if !s.memory.Load() {
		return
	}
	if s.checkDisk("the database", 0) != nil {
		return
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if !s.inMemory {
		return
	}
	disk, err := openDisk(s.dir, filepath.Join(s.dir, badgerDirName), s.log)
	if err != nil {
		s.log.Warn("cannot open the cache database on disk; keeping it in memory", "error", err)
		return
	}
	n, err := copyRecords(s.db, disk, s.memDeleted)
	if err != nil {
		// What was copied stays; the rest of the memory is lost with it.
		s.log.Warn("writing the records kept in memory to disk failed", "error", err)
	}
	s.db.Close()
	s.db, s.inMemory, s.memDeleted = disk, false, nil
	s.memory.Store(false)
	s.log.Info("disk space is back: the cache database is on disk again", "dir", s.dir, "records_from_memory", n)
}

// copyRecords writes every record of from into to, and deletes the keys
// deleted (true) in from meanwhile.
func copyRecords(from, to *badger.DB, deleted map[string]bool) (int, error) {
	wb := to.NewWriteBatch()
	defer wb.Cancel()
	for k, del := range deleted {
		if del {
			if err := wb.Delete([]byte(k)); err != nil {
				return 0, err
			}
		}
	}
	n := 0
	err := from.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := wb.Set(it.Item().KeyCopy(nil), v); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, wb.Flush()
}

// Disk measures the file system holding the store now and reports whether
// the store writes to it; a store kept in memory moves to disk first when
// there is room.
func (s *Store) Disk() DiskStatus {
	s.tryDisk()
	if !s.memory.Load() {
		s.checkDisk("", 0)
	}
	st := s.guard.status()
	st.InMemory = s.memory.Load()
	if st.InMemory {
		st.Full = true
	}
	return st
}
