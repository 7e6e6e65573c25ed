package daemon

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"lore/ingest/scan"
)

// Watcher timing: a burst of events is coalesced into one refresh once the
// tree has been quiet for watchQuiet (or after watchMaxDelay at the latest,
// so a file written continuously still gets in), and the tree is rescanned
// every watchRescan whatever the events said, as a safety net: fsnotify
// drops events when its queue overflows.
const (
	watchQuiet    = 10 * time.Millisecond
	watchMaxDelay = 2 * time.Second
	watchRescan   = 2 * time.Minute
)

// watch keeps the prefix fresh between questions: shortly after files
// change it brings the pack and sequence 0 up to date, so the next question
// finds them ready instead of prefilling first. It returns when ctx ends.
func (d *Daemon) watch(ctx context.Context) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		d.log.Warn("file watcher unavailable: the pack is refreshed at each question only", "err", err)
		return
	}
	defer w.Close()
	d.watchTree(w)

	var (
		pending  int                           // events since the last refresh
		first    time.Time                     // when the first of them came
		quiet    = time.NewTimer(time.Hour)    // fires watchQuiet after the last event
		rescan   = time.NewTicker(watchRescan) // the safety net
		refreshC = make(chan struct{}, 1)      // a refresh is due now
	)
	quiet.Stop()
	defer rescan.Stop()
	due := func() {
		select {
		case refreshC <- struct{}{}:
		default:
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
					d.addDirs(w, ev.Name) // a new folder: watch it and what it holds
				}
			}
			if pending == 0 {
				first = time.Now()
			}
			pending++
			if time.Since(first) >= watchMaxDelay {
				due()
			} else {
				quiet.Reset(watchQuiet)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				d.log.Warn("file watcher overflowed: rescanning")
				pending++
				due()
			} else {
				d.log.Warn("file watcher", "err", err)
			}
		case <-d.nudges:
			if pending == 0 {
				first = time.Now()
			}
			pending++
			quiet.Reset(watchQuiet)
		case <-quiet.C:
			due()
		case <-rescan.C:
			pending++
			due()
		case <-refreshC:
			if pending == 0 {
				continue
			}
			n := pending
			pending = 0
			quiet.Stop()
			d.refreshInBackground(ctx, n)
			d.watchTree(w) // folders may have come and gone
		}
	}
}

// refreshInBackground brings the prefix up to date after n file events.
func (d *Daemon) refreshInBackground(ctx context.Context, events int) {
	select {
	case <-d.ready:
	default:
		return // the first sync will see the changes
	}
	d.mu.Lock()
	failed := d.failure != nil
	d.mu.Unlock()
	if failed {
		return
	}
	prefilled, err := d.prefix.refresh(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("refresh after file changes failed", "err", err)
		}
		return
	}
	if prefilled > 0 {
		d.log.Info("refreshed after file changes", "events", events, "prefilled", prefilled)
	}
}

// watchTree watches the folders that hold the pack's files (and their
// parents), plus the git folder for branch switches and commits. Ignored and
// vendored folders are left alone: nothing in them reaches the pack.
func (d *Daemon) watchTree(w *fsnotify.Watcher) {
	res := d.prefix.lastScanned()
	dirs := map[string]bool{d.opts.Repo: true}
	if res != nil {
		for _, f := range res.Files {
			for dir := path.Dir(f.Path); dir != "." && !dirs[dir]; dir = path.Dir(dir) {
				dirs[dir] = true
			}
		}
	}
	for _, g := range []string{".git", ".git/refs/heads"} {
		if st, err := os.Stat(filepath.Join(d.opts.Repo, g)); err == nil && st.IsDir() {
			dirs[g] = true
		}
	}
	watched := map[string]bool{}
	for _, p := range w.WatchList() {
		watched[p] = true
	}
	for dir := range dirs {
		full := dir
		if !filepath.IsAbs(full) {
			full = filepath.Join(d.opts.Repo, filepath.FromSlash(dir))
		}
		if !watched[full] {
			if err := w.Add(full); err != nil && !errors.Is(err, os.ErrNotExist) {
				d.log.Debug("cannot watch", "dir", full, "err", err)
			}
		}
	}
}

// addDirs watches a new folder and the folders below it, except vendored
// and git folders.
func (d *Daemon) addDirs(w *fsnotify.Watcher, root string) {
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return nil
		}
		if e.Name() == ".git" || scan.IsVendoredDir(e.Name()) {
			return filepath.SkipDir
		}
		w.Add(p)
		return nil
	})
}
