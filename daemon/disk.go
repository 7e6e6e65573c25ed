package daemon

import (
	"fmt"

	"lore/api"
	"lore/cache"
)

// diskStatus is the state of the cache's file system, for status and
// answers; nil before the cache is open. A full disk stops the cache from
// writing (cache/disk.go), never the daemon from answering.
func (d *Daemon) diskStatus() *api.DiskStatus {
	d.mu.Lock()
	store := d.store
	d.mu.Unlock()
	if store == nil {
		return nil
	}
	ds := store.Disk()
	out := &api.DiskStatus{Full: ds.Full, InMemory: ds.InMemory, FreeBytes: ds.Free, ReserveBytes: ds.Reserve, Since: ds.Since, Dir: ds.Dir}
	if ds.Full {
		out.Message = diskMessage(ds)
	}
	return out
}

func diskMessage(ds cache.DiskStatus) string {
	what := "the cache (KV snapshots, token arrays, layouts, sessions) is not written to disk"
	if ds.InMemory {
		what = "the cache is kept in memory only and KV snapshots are not written"
	}
	return fmt.Sprintf("the disk is full: %s free in %s, and lore writes its cache only with %s free, so %s; answers are not affected, and the cache is written again once there is room",
		mebibytes(ds.Free), ds.Dir, mebibytes(ds.Reserve), what)
}

func mebibytes(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
