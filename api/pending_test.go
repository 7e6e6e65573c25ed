package api

import (
	"os"
	"path/filepath"
	"testing"
)

// An amend's post-commit and post-rewrite records of the same commit are
// kept apart; each is dropped on its own; a record that cannot be read is
// removed; a name that is not a full commit id is refused.
func TestPendingNotes(t *testing.T) {
	dir := t.TempDir()
	const commit, old = "0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"
	plain := PendingNote{NoteParams: NoteParams{Commit: commit}}
	amend := PendingNote{NoteParams: NoteParams{Commit: commit, Replaces: old}, Attempts: 1}
	for _, n := range []PendingNote{plain, amend} {
		if err := SavePendingNote(dir, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := SavePendingNote(dir, PendingNote{NoteParams: NoteParams{Commit: "HEAD"}}); err == nil {
		t.Error("a record for HEAD was saved")
	}
	os.WriteFile(filepath.Join(PendingNotesDir(dir), "fedcba9876543210fedcba9876543210fedcba98"), []byte("{not json"), 0o644)
	got, err := PendingNotes(dir)
	if err != nil || len(got) != 2 {
		t.Fatalf("PendingNotes = %+v, %v; want the plain and the amend record", got, err)
	}
	seen := map[NoteParams]int{}
	for _, n := range got {
		seen[n.NoteParams] = n.Attempts
	}
	if a, ok := seen[amend.NoteParams]; !ok || a != 1 {
		t.Errorf("the amend record: %+v", got)
	}
	if _, ok := seen[plain.NoteParams]; !ok {
		t.Errorf("the plain record: %+v", got)
	}
	if err := DropPendingNote(dir, amend.NoteParams); err != nil {
		t.Fatal(err)
	}
	if got, _ := PendingNotes(dir); len(got) != 1 || got[0].NoteParams != plain.NoteParams {
		t.Errorf("after dropping the amend record: %+v", got)
	}
	if ents, _ := os.ReadDir(PendingNotesDir(dir)); len(ents) != 1 {
		t.Errorf("the unreadable record stays: %v", ents)
	}
}
