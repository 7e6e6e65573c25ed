package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Badger writes through memory-mapped files (its write-ahead log, value log,
// tables and discard file are created sparse and then written as memory), so
// on a full file system a write does not fail: the process dies of SIGBUS,
// and on tmpfs even replaying the log at the next start does. No option of
// badger v4 avoids those mappings short of keeping the whole database in
// memory. So the store never lets badger write unless the file system has
// room for everything badger may write in consequence: a memtable's
// write-ahead log and the table its flush writes (MemTableSize each), a
// compaction that rewrites the tables (their size), the discard file, and the
// value being written. Below that it writes nothing to disk and says so
// (Disk); it writes again once there is room.
const (
	// diskReserve is the room kept free beyond the database's tables:
	// twice the memtable (its log, then its flush) with room to spare.
	diskReserve = 64 << 20
	// diskRecheck is how often a store that stopped writing looks whether
	// space came back, when nothing else asks.
	diskRecheck = 10 * time.Second
	// closeMargin is what closing the database needs beyond flushing its
	// memtable (manifest, discard file, value log header).
	closeMargin = 4 << 20
)

// ErrDiskFull is the error (errors.Is) of writes the store refused because
// the file system holding it is (nearly) full.
var ErrDiskFull = errors.New("cache: disk full")

// DiskFullError says what was not written and why.
type DiskFullError struct {
	What    string // "a record", "snapshot NAME (SIZE)"
	Dir     string
	Free    int64 // bytes free on the file system
	Need    int64 // bytes the write needs, reserve included
	Reserve int64
}

func (e *DiskFullError) Error() string {
	kept := ""
	if e.Reserve > 0 {
		kept = fmt.Sprintf(" (%s kept for its database, which would crash on a full disk)", mib(e.Reserve))
	}
	return fmt.Sprintf("cache: not writing %s: %s free in %s, and lore writes its cache only with %s free%s; free some space and lore writes again",
		e.What, mib(e.Free), e.Dir, mib(e.Need), kept)
}

// Is makes errors.Is(err, ErrDiskFull) hold.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// DiskStatus is the state of the file system that holds the store.
type DiskStatus struct {
	// Full: the store writes nothing to disk (records or snapshots) until
	// Free passes Reserve again.
	Full bool
	// InMemory: the disk was full when the store opened, so its records are
	// kept in memory (the database on disk was not opened); they are written
	// to disk once there is room.
	InMemory bool
	Free     int64     // bytes free, as last measured
	Reserve  int64     // bytes the store keeps free before it writes
	Since    time.Time // when it stopped writing (zero when not Full)
	Dir      string
}

// diskGuard measures the free space of the store's file system.
type diskGuard struct {
	dir  string // the store's directory (statfs target)
	bdir string // the database's directory (its tables count in the reserve)

	mu       sync.Mutex
	full     bool
	since    time.Time
	free     int64
	reserve  int64
	tablesAt time.Time // when tables was measured
	tables   int64
}

// freeBytes is what an unprivileged process may still write on the file
// system holding dir.
func freeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// tableBytes is the size of the database's tables: a compaction may write
// them again before it removes the old ones. Measured at most once a second.
func (g *diskGuard) tableBytesLocked(now time.Time) int64 {
	if now.Sub(g.tablesAt) < time.Second && !g.tablesAt.IsZero() {
		return g.tables
	}
	var n int64
	if ents, err := os.ReadDir(g.bdir); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".sst") {
				if info, err := e.Info(); err == nil {
					n += info.Size()
				}
			}
		}
	}
	g.tables, g.tablesAt = n, now
	return n
}

// check measures the free space and returns a *DiskFullError when writing
// need more bytes would leave less than the reserve. It records the state
// and reports whether it changed (for the log).
func (g *diskGuard) check(what string, need int64) (changed bool, err error) {
	now := time.Now()
	free, ferr := freeBytes(g.dir)
	g.mu.Lock()
	defer g.mu.Unlock()
	if ferr != nil {
		// Not measurable (the folder vanished, ...): let the write say why.
		return false, nil
	}
	g.reserve = diskReserve + g.tableBytesLocked(now)
	g.free = free
	full := free < g.reserve+need
	// The state is the disk's, not one write's: a large snapshot that does
	// not fit does not make the disk full for small records.
	stateFull := free < g.reserve
	if stateFull != g.full {
		changed = true
		g.full = stateFull
		g.since = time.Time{}
		if stateFull {
			g.since = now
		}
	}
	if full {
		return changed, &DiskFullError{What: what, Dir: g.dir, Free: free, Need: g.reserve + need, Reserve: g.reserve}
	}
	return changed, nil
}

func (g *diskGuard) status() DiskStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	return DiskStatus{Full: g.full, Free: g.free, Reserve: g.reserve, Since: g.since, Dir: g.dir}
}

// allocatedBytes is the space the files matching pattern take on disk (not
// their sparse length).
func allocatedBytes(pattern string) int64 {
	files, _ := filepath.Glob(pattern)
	var n int64
	for _, f := range files {
		var st unix.Stat_t
		if unix.Stat(f, &st) == nil {
			n += st.Blocks * 512
		}
	}
	return n
}

func mib(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
