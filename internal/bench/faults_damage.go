package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"lore/api"
	"lore/config"
)

// corruption damages the state a cleanly stopped daemon left.
type corruption struct {
	name     string
	snapshot bool // damages the snapshot: restoring from it is keeping corruption
	apply    func(s *soak) error
}

var corruptions = []corruption{
	{"snapshot truncated to half", true, func(s *soak) error {
		return s.eachSnapshot(func(p string, size int64) error { return os.Truncate(p, size/2) })
	}},
	{"snapshot bytes flipped in its middle", true, func(s *soak) error {
		return s.eachSnapshot(func(p string, size int64) error { return s.flip(p, size/2, 64) })
	}},
	{"snapshot trailer flipped", true, func(s *soak) error {
		return s.eachSnapshot(func(p string, size int64) error { return s.flip(p, size-8, 8) })
	}},
	{"store MANIFEST overwritten", false, func(s *soak) error {
		return s.eachStoreFile("MANIFEST", func(p string, size int64) error { return s.flip(p, 0, size) })
	}},
	{"store tables and value logs flipped", false, func(s *soak) error {
		err := s.eachStoreFile("*.sst", func(p string, size int64) error { return s.flip(p, size/2, 256) })
		if err != nil {
			return err
		}
		return s.eachStoreFile("*.vlog", func(p string, size int64) error { return s.flip(p, size/2, 256) })
	}},
	{"store files removed", false, func(s *soak) error {
		return s.eachStoreFile("*", func(p string, _ int64) error {
			if filepath.Base(p) == badgerLockName {
				return nil
			}
			return os.Remove(p)
		})
	}},
}

// badgerLockName is badger's own lock file, which a removal leaves.
const badgerLockName = "LOCK"

// corruptTrial makes sure a snapshot exists (a clean start and stop), damages
// the state, then restarts.
func (s *soak) corruptTrial(f corruption) faultTrial {
	if len(s.snapshots()) == 0 {
		if t := s.restart("corrupt", "set-up"); !t.ok() {
			t.Fault = f.name + " (set-up)"
			return t
		}
	}
	if err := f.apply(s); err != nil {
		return faultTrial{Phase: "corrupt", Fault: f.name, Error: err.Error()}
	}
	t := s.restart("corrupt", f.name)
	t.CorruptKept = f.snapshot && t.Restored > 0
	return t
}

func (s *soak) eachSnapshot(fn func(path string, size int64) error) error {
	snaps := s.snapshots()
	if len(snaps) == 0 {
		return errors.New("no snapshot to damage: the daemon did not save one when it stopped")
	}
	for _, p := range snaps {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if err := fn(p, fi.Size()); err != nil {
			return err
		}
	}
	return nil
}

func (s *soak) eachStoreFile(pattern string, fn func(path string, size int64) error) error {
	files, _ := filepath.Glob(filepath.Join(s.b.state(), "repos", "*", "badger", pattern))
	n := 0
	for _, p := range files {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
			continue
		}
		if err := fn(p, fi.Size()); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no store file matches %s", pattern)
	}
	return nil
}

// flip overwrites n bytes of the file at off with random bytes that differ
// from the ones they replace.
func (s *soak) flip(path string, off, n int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	off = max(0, min(off, fi.Size()-1))
	n = min(n, fi.Size()-off)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return err
	}
	for i := range buf {
		buf[i] ^= byte(1 + s.rng.IntN(255))
	}
	_, err = f.WriteAt(buf, off)
	return err
}

// diskTrials runs a daemon whose state folder is on a tmpfs of mb MiB: it is
// filled up while questions and edits arrive, then freed. It returns why the
// phase was skipped when the tmpfs cannot be mounted.
func (s *soak) diskTrials(dir string, mb int) ([]faultTrial, string) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err.Error()
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm,mode=0700", mb), "tmpfs", dir).CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("cannot mount a tmpfs (needs root): %v %s", err, strings.TrimSpace(string(out)))
	}
	defer exec.Command("umount", "-l", dir).Run()
	b := *s.b
	b.env = append(append([]string(nil), s.b.env...), config.EnvStateDir+"="+filepath.Join(dir, "state"))
	ds := &soak{ctx: s.ctx, b: &b, clone: s.clone, rng: s.rng, log: s.log, edits: s.edits, editFile: s.editFile}
	defer func() { s.edits = ds.edits }()

	full := ds.diskFull(dir)
	if !full.ok() {
		return []faultTrial{full}, ""
	}
	// Space is back: a clean stop above wrote what it could; a restart must
	// come back and answer, and a second stop must save the snapshot again.
	freed := ds.restart("disk", "space freed: restart")
	if freed.ok() && len(ds.snapshots()) == 0 {
		freed.Error = "no snapshot written once space returned"
	}
	return []faultTrial{full, freed}, ""
}

// diskFull fills the tmpfs under a ready daemon, asks and edits, checks it
// stays up and answers, then frees the space and stops it.
func (s *soak) diskFull(dir string) faultTrial {
	t := faultTrial{Phase: "disk", Fault: "file system full while answering and editing"}
	ctx, cancel := context.WithTimeout(s.ctx, startTimeout)
	defer cancel()
	p, c, err := s.start(ctx)
	if err != nil {
		t.Error = err.Error()
		return t
	}
	defer p.kill()
	defer c.Close()
	if _, err := waitDaemonReady(ctx, c); err != nil {
		t.Error = "not ready: " + err.Error()
		return t
	}
	t.Restarted = true
	filler := filepath.Join(dir, "filler")
	if err := fill(filler); err != nil {
		t.Error = "filling the tmpfs: " + err.Error()
		return t
	}
	for i := 0; i < 3; i++ {
		if err := s.edit(); err != nil {
			t.Error = err.Error()
			return t
		}
		if _, err := c.Ask(ctx, api.AskParams{Question: "What changed?", MaxTokens: 4, Seed: 1}, nil, nil); err != nil {
			t.Error = fmt.Sprintf("ask %d on a full disk: %v", i+1, err)
			t.Crashed = p.exited(time.Second)
			return t
		}
		// Let background snapshots and cache writes meet the full disk.
		time.Sleep(2 * time.Second)
	}
	if p.exited(0) {
		t.Crashed, t.Error = true, fmt.Sprintf("the daemon died on a full disk (%v)", p.err)
		return t
	}
	t.Answered = true
	os.Remove(filler)
	if err := s.edit(); err != nil {
		t.Error = err.Error()
		return t
	}
	if _, err := c.Ask(ctx, api.AskParams{Question: "And now?", MaxTokens: 4, Seed: 1}, nil, nil); err != nil {
		t.Error = "ask after space returned: " + err.Error()
		t.Answered = false
		return t
	}
	if err := p.stop(ctx, c); err != nil {
		t.Error = "stop: " + err.Error()
	}
	return t
}

// fill writes a file until the file system is full.
func fill(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
}
