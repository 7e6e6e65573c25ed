package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"lore/internal/atomicfile"
)

// Notes that could not be written when their commit was made (no daemon
// ran, its queue was full, the model failed) wait as one file each in the
// repository's git folder, where a git hook can leave one in microseconds
// and any later daemon finds it: the daemon fills them in when idle.

// PendingNote is a note waiting to be written.
type PendingNote struct {
	NoteParams
	// Attempts counts the summaries tried and failed; past
	// MaxNoteAttempts the note is given up (lore summarize --missing
	// still fills it in on demand).
	Attempts int `json:"attempts,omitempty"`
}

// MaxNoteAttempts is how many times a pending note is tried.
const MaxNoteAttempts = 3

// pendingName is a full commit id, with "-amend" for a post-rewrite's
// record: the only names the folder holds. An amend's post-commit and
// post-rewrite both leave one for the same commit, in parallel, so the two
// kinds are kept apart.
var pendingName = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?(-amend)?$`)

// pendingFile is n's record's name.
func pendingFile(n NoteParams) string {
	if n.Replaces != "" {
		return n.Commit + "-amend"
	}
	return n.Commit
}

// PendingNotesDir is the folder of pending notes in the git folder common
// to all worktrees (git rev-parse --git-common-dir).
func PendingNotesDir(gitCommonDir string) string {
	return filepath.Join(gitCommonDir, "lore", "pending-notes")
}

// SavePendingNote records n under its commit, which must be a full commit
// id, replacing what was recorded for it.
func SavePendingNote(gitCommonDir string, n PendingNote) error {
	if !pendingName.MatchString(n.Commit) || strings.HasSuffix(n.Commit, "-amend") {
		return fmt.Errorf("a pending note needs a full commit id, not %q", n.Commit)
	}
	dir := PendingNotesDir(gitCommonDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, pendingFile(n.NoteParams)), b, 0o644)
}

// DropPendingNote removes n's record; none is no error.
func DropPendingNote(gitCommonDir string, n NoteParams) error {
	name := pendingFile(n)
	if !pendingName.MatchString(name) {
		return nil
	}
	err := os.Remove(filepath.Join(PendingNotesDir(gitCommonDir), name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// PendingNotes lists the pending notes, oldest first. Records that cannot
// be read are removed: they would never be written.
func PendingNotes(gitCommonDir string) ([]PendingNote, error) {
	dir := PendingNotesDir(gitCommonDir)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type rec struct {
		n    PendingNote
		time int64
	}
	var recs []rec
	for _, e := range ents {
		if !pendingName.MatchString(e.Name()) {
			continue // a temporary file being written
		}
		p := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(p)
		var n PendingNote
		if err == nil {
			err = json.Unmarshal(b, &n)
		}
		if err != nil || pendingFile(n.NoteParams) != e.Name() {
			os.Remove(p)
			continue
		}
		var t int64
		if fi, err := e.Info(); err == nil {
			t = fi.ModTime().UnixNano()
		}
		recs = append(recs, rec{n, t})
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].time < recs[j].time })
	out := make([]PendingNote, len(recs))
	for i, r := range recs {
		out[i] = r.n
	}
	return out, nil
}
