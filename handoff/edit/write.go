package edit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Absent is the expected hash of a file that did not exist.
const Absent = ""

// Hash is the hash WriteAll compares with: SHA-256 of the text, in hex.
func Hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// ErrChanged is wrapped by WriteAll's error when a file is no longer what
// the edits were made from.
var ErrChanged = errors.New("changed on disk since the edits were generated")

// ReadFiles reads, under root, the files named by paths (as a model wrote
// them: the blocks' paths) for Apply, and their hashes for WriteAll, by
// cleaned path: a missing file is absent from files and has the hash
// Absent. A path CleanPath refuses is skipped (Apply refuses its blocks,
// naming the reason). A path that leaves root through a symbolic link, or
// that is not a regular file, is an error.
func ReadFiles(root string, paths []string) (files, hashes map[string]string, err error) {
	realRoot, err := resolveRoot(root)
	if err != nil {
		return nil, nil, err
	}
	files, hashes = map[string]string{}, map[string]string{}
	for _, p := range paths {
		c, err := CleanPath(p)
		if err != nil {
			continue
		}
		if _, done := hashes[c]; done {
			continue
		}
		text, ok, err := readInside(realRoot, c)
		if err != nil {
			return nil, nil, err
		}
		hashes[c] = Absent
		if ok {
			files[c] = text
			hashes[c] = Hash(text)
		}
	}
	return files, hashes, nil
}

func resolveRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("the repository root %s: %w", root, err)
	}
	return real, nil
}

// inside checks that the cleaned relative path p, under the resolved
// root, stays inside it: no folder on the way is a link that leads out,
// and the file itself is not a link. It returns the full path.
func inside(root, p string) (string, error) {
	full := filepath.Join(root, filepath.FromSlash(p))
	parts := strings.Split(p, "/")
	cur := root
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return full, nil // the rest will be created
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if i < len(parts)-1 && !fi.IsDir() {
				return "", fmt.Errorf("%s: %s is not a folder", p, filepath.Join(parts[:i+1]...))
			}
			continue
		}
		if i == len(parts)-1 {
			return "", fmt.Errorf("%s is a symbolic link: lore writes regular files only, not through links", p)
		}
		dest, err := filepath.EvalSymlinks(cur)
		if err != nil {
			return "", fmt.Errorf("%s: the link %s: %w", p, filepath.Join(parts[:i+1]...), err)
		}
		if rel, err := filepath.Rel(root, dest); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("%s leaves the repository through the symbolic link %s (to %s); the edit was refused", p, filepath.Join(parts[:i+1]...), dest)
		}
	}
	return full, nil
}

// readInside reads the file p under root; ok is false when it does not
// exist.
func readInside(root, p string) (text string, ok bool, err error) {
	full, err := inside(root, p)
	if err != nil {
		return "", false, err
	}
	fi, err := os.Lstat(full)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if !fi.Mode().IsRegular() {
		return "", false, fmt.Errorf("%s is not a regular file", p)
	}
	b, err := os.ReadFile(full)
	if err != nil {
		return "", false, err
	}
	return string(b), true, nil
}

// step is one file of a WriteAll.
type step struct {
	c      Change
	full   string
	mode   fs.FileMode
	temp   string // the new text, beside the file ("" for a deletion)
	backup string // a copy of the original, beside it ("" for a new file)
	done   bool
}

// WriteAll writes the changes under root, all of them or none. expected
// holds, by path, the hash (Hash) of each file as it was when the edits
// were generated, Absent for a file that did not exist; every change
// needs one. WriteAll refuses, before writing anything, when a file's
// hash differs (the error wraps ErrChanged), when a change was made from
// other text than that, and when a path leaves root (".." or a symbolic
// link) or is a link itself. It then writes each new text to a temporary
// file beside its target and a copy of each original beside it, renames
// the new texts over the targets and removes deleted files; when one of
// those steps fails, the ones done are undone from the copies and the
// error says so. A file keeps its permission bits; a new one gets 0644.
// Another process writing the same files at the same moment is not
// guarded against.
func WriteAll(root string, changes []Change, expected map[string]string) (err error) {
	realRoot, err := resolveRoot(root)
	if err != nil {
		return err
	}
	steps := make([]*step, 0, len(changes))
	seen := map[string]bool{}
	for _, c := range changes {
		p, err := CleanPath(c.Path)
		if err != nil {
			return err
		}
		if p != c.Path {
			return fmt.Errorf("the change's path %q is not clean (%q): changes come from Apply", c.Path, p)
		}
		if seen[p] {
			return fmt.Errorf("two changes for %s", p)
		}
		seen[p] = true
		want, ok := expected[p]
		if !ok {
			return fmt.Errorf("no expected hash for %s: WriteAll needs each file's hash from when the edits were generated (Absent for a new file)", p)
		}
		if c.Existed != (want != Absent) || c.Existed && Hash(c.Old) != want {
			return fmt.Errorf("the change of %s was made from other text than the expected hash names: apply the blocks to the files as they were read", p)
		}
		full, err := inside(realRoot, p)
		if err != nil {
			return err
		}
		st := &step{c: c, full: full, mode: 0o644}
		fi, err := os.Lstat(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if want != Absent {
				return fmt.Errorf("%s was deleted: %w; generate the edits again", p, ErrChanged)
			}
		case err != nil:
			return err
		case !fi.Mode().IsRegular():
			return fmt.Errorf("%s is not a regular file", p)
		default:
			if want == Absent {
				return fmt.Errorf("%s was created: %w; generate the edits again", p, ErrChanged)
			}
			b, err := os.ReadFile(full)
			if err != nil {
				return err
			}
			if Hash(string(b)) != want {
				return fmt.Errorf("%s %w; generate the edits again", p, ErrChanged)
			}
			st.mode = fi.Mode().Perm()
		}
		steps = append(steps, st)
	}

	var made []string // folders created, outermost first
	defer func() {
		if err == nil {
			return
		}
		for _, st := range steps {
			removeIf(st.temp)
			if !st.done {
				removeIf(st.backup)
			}
		}
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i]) // only when empty: a restored file keeps it
		}
	}()
	for _, st := range steps {
		if st.c.Existed {
			if st.backup, err = writeTemp(filepath.Dir(st.full), ".lore-orig-", st.c.Old, st.mode); err != nil {
				return fmt.Errorf("copying %s before writing: %w; nothing was written", st.c.Path, err)
			}
		}
		if st.c.Delete {
			continue
		}
		dirs, err := mkdirs(filepath.Dir(st.full))
		made = append(made, dirs...)
		if err != nil {
			return fmt.Errorf("making the folder of %s: %w; nothing was written", st.c.Path, err)
		}
		if st.temp, err = writeTemp(filepath.Dir(st.full), ".lore-new-", st.c.New, st.mode); err != nil {
			return fmt.Errorf("writing %s: %w; nothing was written", st.c.Path, err)
		}
	}
	for i, st := range steps {
		if st.c.Delete {
			err = os.Remove(st.full)
		} else {
			err = os.Rename(st.temp, st.full)
		}
		if err == nil {
			st.done, st.temp = true, ""
			continue
		}
		err = fmt.Errorf("writing %s: %w", st.c.Path, err)
		return rollback(steps[:i], err)
	}
	var left []string
	for _, st := range steps {
		syncDir(filepath.Dir(st.full))
		if st.backup != "" {
			if rerr := os.Remove(st.backup); rerr != nil {
				left = append(left, st.backup)
			}
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("the edits were written, but copies of the originals could not be removed: %s", strings.Join(left, ", "))
	}
	return nil
}

// rollback undoes the steps done, newest first: originals come back from
// their copies, new files go.
func rollback(done []*step, cause error) error {
	var lost []string
	for i := len(done) - 1; i >= 0; i-- {
		st := done[i]
		var err error
		if st.backup != "" {
			err = os.Rename(st.backup, st.full)
		} else {
			err = os.Remove(st.full)
		}
		if err != nil {
			what := st.c.Path + " (remove it)"
			if st.backup != "" {
				what = fmt.Sprintf("%s (its original is in %s)", st.c.Path, st.backup)
			}
			lost = append(lost, what)
			continue
		}
		st.backup = ""
	}
	if len(lost) > 0 {
		return fmt.Errorf("%w; undoing the files written before it failed for %s", cause, strings.Join(lost, ", "))
	}
	return fmt.Errorf("%w; the files written before it were restored: nothing changed", cause)
}

func removeIf(path string) {
	if path != "" {
		os.Remove(path)
	}
}

// mkdirs makes dir and its missing parents and returns those it made,
// outermost first.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
}

// writeTemp writes text to a new temporary file in dir, synced, with mode.
func writeTemp(dir, prefix, text string, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, prefix)
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir makes a folder's renames durable; best effort (not every file
// system can sync a folder).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
