package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/gofrs/flock"
)

// Sizes of badger's files; the reserve of free space (disk.go) follows them.
const (
	memTableSize     = 16 << 20
	valueLogFileSize = 128 << 20
)

// badgerOptions keeps badger small: this is a per-repository cache on a
// developer machine, not a server database.
func badgerOptions(path string, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(path).
		WithLogger(badgerLogger{log}).
		WithMetricsEnabled(false).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		WithBlockCacheSize(16 << 20).
		WithValueThreshold(64 << 10).
		WithValueLogFileSize(valueLogFileSize).
		WithDetectConflicts(false).
		// Verify value checksums when values are read from the value log:
		// a damaged record must fail rather than come back wrong. Tables
		// are verified by checkTables before badger opens them.
		WithVerifyValueChecksum(true)
}

// openMemory opens an empty database held in memory only.
func openMemory(log *slog.Logger) (*badger.DB, error) {
	return badger.Open(badgerOptions("", log).WithInMemory(true))
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
// Here a damaged table is an error, and the database is moved aside. Tables
// the manifest does not name are not checked: they are what a flush or
// compaction cut short by a crash left, possibly truncated, and badger
// deletes them when it opens.
func checkTables(dir string) error {
	files, err := manifestTables(dir)
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

// manifestTables lists the table files that dir's MANIFEST names, or every
// table file when the manifest cannot be read (badger then says why).
func manifestTables(dir string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil || len(all) == 0 {
		return all, err
	}
	f, err := os.Open(filepath.Join(dir, badger.ManifestFilename))
	if err != nil {
		return all, nil
	}
	defer f.Close()
	opt := badger.DefaultOptions(dir).WithLogger(nil)
	mf, _, err := badger.ReplayManifestFile(f, opt.ExternalMagicVersion, opt)
	if err != nil {
		return all, nil
	}
	var named []string
	for _, p := range all {
		if id, ok := table.ParseFileID(filepath.Base(p)); ok {
			if _, in := mf.Tables[id]; in {
				named = append(named, p)
			}
		}
	}
	return named, nil
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

// dropEmptyValueLogs removes the value log files of zero bytes in dir and
// reports whether there were any. Badger creates a value log file and then
// sizes it; a process killed in between leaves an empty file, which holds no
// values but which badger fails to open (after sizing it, so it must go
// first). It holds badger's directory lock meanwhile, so that it never takes
// a file a live process is creating; when another process holds the lock it
// does nothing.
func dropEmptyValueLogs(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	var empty []string
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Size() == 0 {
			empty = append(empty, f)
		}
	}
	if len(empty) == 0 {
		return false
	}
	lock := flock.New(filepath.Join(dir, badgerLockFile))
	if ok, err := lock.TryLock(); err != nil || !ok {
		return false
	}
	defer lock.Unlock()
	removed := false
	for _, f := range empty {
		if st, err := os.Stat(f); err == nil && st.Size() == 0 && os.Remove(f) == nil {
			removed = true
		}
	}
	return removed
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
// Newest is by the time in the name (the time it was moved aside; the
// folder's own time is that of its last write), then the numeric suffix.
func pruneCorrupt(dir string, log *slog.Logger) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type aside struct {
		name    string
		at, seq int64
	}
	var list []aside
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), badgerDirName+corruptMarker)
		if !ok {
			continue
		}
		a := aside{name: e.Name()}
		at, seq, _ := strings.Cut(rest, "-")
		if a.at, err = strconv.ParseInt(at, 10, 64); err != nil {
			info, err := e.Info()
			if err != nil {
				continue
			}
			a.at = info.ModTime().Unix()
		}
		a.seq, _ = strconv.ParseInt(seq, 10, 64)
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].at != list[j].at {
			return list[i].at > list[j].at
		}
		return list[i].seq > list[j].seq
	})
	for i := keepCorrupt; i < len(list); i++ {
		if err := os.RemoveAll(filepath.Join(dir, list[i].name)); err != nil {
			log.Warn("cannot remove old moved-aside database", "path", list[i].name, "error", err)
		} else {
			log.Info("removed an older moved-aside database", "path", list[i].name)
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
