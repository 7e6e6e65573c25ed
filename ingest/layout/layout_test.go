package layout

import (
	"fmt"
	"slices"
	"testing"
)

func alpha(paths []string) []string {
	out := slices.Clone(paths)
	slices.Sort(out)
	return out
}

func files(n, tokens int) []Entry {
	var out []Entry
	for i := 0; i < n; i++ {
		out = append(out, Entry{Path: fmt.Sprintf("f%02d", i), Hash: "v0", Tokens: tokens})
	}
	return out
}

func describe(l *Layout) []string {
	var out []string
	for _, e := range l.Entries() {
		s := e.Path + "@" + e.Hash + "/" + e.Tier.String()
		if e.Deleted {
			s = e.Path + " deleted/" + e.Tier.String()
		}
		if e.Stale {
			s += " stale"
		}
		out = append(out, s)
	}
	return out
}

func TestLayoutUpdateAppendsOnly(t *testing.T) {
	l := New(files(4, 100), alpha, Policy{OverlayMax: 1, WarmMax: 1, StaleMax: 1})
	before := l.Entries()
	got := l.Update([]Entry{{Path: "f01", Hash: "v1", Tokens: 120}, {Path: "f03", Deleted: true, Tokens: 5}, {Path: "f02", Hash: "v0", Tokens: 100}})
	if got != 125 {
		t.Fatalf("appended %d tokens, want 125 (the changed file and the deletion marker)", got)
	}
	after := l.Entries()
	for i := range before {
		if after[i].Path != before[i].Path || after[i].Hash != before[i].Hash {
			t.Fatalf("the prefix moved: %v", describe(l))
		}
	}
	want := []string{"f00@v0/cold", "f01@v0/cold stale", "f02@v0/cold", "f03@v0/cold stale", "f01@v1/overlay", "f03 deleted/overlay"}
	if !slices.Equal(describe(l), want) {
		t.Fatalf("layout %v, want %v", describe(l), want)
	}
	if s := l.Stats(); s.Stale != 200 || s.Total != 525 || s.Overlay != 125 {
		t.Fatalf("stats %+v", s)
	}
	// A second edit of the same file supersedes the overlay copy.
	if got := l.Update([]Entry{{Path: "f01", Hash: "v2", Tokens: 130}}); got != 130 {
		t.Fatalf("appended %d", got)
	}
	if d := describe(l); d[4] != "f01@v1/overlay stale" || d[6] != "f01@v2/overlay" {
		t.Fatalf("layout %v", d)
	}
	// Deleting an already deleted file, or a file never held, costs nothing.
	if got := l.Update([]Entry{{Path: "f03", Deleted: true, Tokens: 5}, {Path: "zz", Deleted: true, Tokens: 5}}); got != 0 {
		t.Fatalf("no-op deletions appended %d", got)
	}
}

func TestLayoutWarmRebuild(t *testing.T) {
	l := New(files(10, 100), alpha, Policy{OverlayMax: 0.05, WarmMax: 0.5, StaleMax: 0.5, StaleKeep: 0.2})
	l.Update([]Entry{{Path: "f02", Hash: "v1", Tokens: 100}})
	if rb := l.Compact(alpha); rb.Kind != "warm" {
		t.Fatalf("overlay at 9%% of the pack should merge into the warm tier: %+v", rb)
	}
	want := []string{"f00@v0/cold", "f01@v0/cold", "f02@v0/cold stale", "f03@v0/cold", "f04@v0/cold", "f05@v0/cold", "f06@v0/cold", "f07@v0/cold", "f08@v0/cold", "f09@v0/cold", "f02@v1/warm"}
	if !slices.Equal(describe(l), want) {
		t.Fatalf("layout %v", describe(l))
	}
	// Nothing more to do.
	if rb := l.Compact(alpha); rb.Kind != "" {
		t.Fatalf("second compaction: %+v", rb)
	}
}

func TestLayoutColdRebuildKeepsEarlyStale(t *testing.T) {
	l := New(files(20, 100), alpha, Policy{OverlayMax: 1, WarmMax: 1, StaleMax: 0.1, StaleKeep: 0.06})
	l.Update([]Entry{{Path: "f01", Hash: "v1", Tokens: 100}, {Path: "f10", Hash: "v1", Tokens: 100}, {Path: "f15", Hash: "v1", Tokens: 100}})
	rb := l.Compact(alpha)
	// 300 of 2300 tokens are stale (13%): the rebuild may keep up to 6%
	// (138 tokens) in front, so f01's stale copy stays and the rebuild starts
	// at f10.
	if rb.Kind != "cold" || rb.From != 10 {
		t.Fatalf("rebuild %+v, want cold from 10", rb)
	}
	d := describe(l)
	want := []string{"f00@v0/cold", "f01@v0/cold stale", "f02@v0/cold", "f03@v0/cold", "f04@v0/cold", "f05@v0/cold", "f06@v0/cold", "f07@v0/cold", "f08@v0/cold", "f09@v0/cold",
		"f01@v1/cold", "f10@v1/cold", "f11@v0/cold", "f12@v0/cold", "f13@v0/cold", "f14@v0/cold", "f15@v1/cold", "f16@v0/cold", "f17@v0/cold", "f18@v0/cold", "f19@v0/cold"}
	if !slices.Equal(d, want) {
		t.Fatalf("layout %v\nwant %v", d, want)
	}
	if rb.Cost != 1100 || rb.Stale != 200 {
		t.Fatalf("cost %d stale %d, want 1100 and 200", rb.Cost, rb.Stale)
	}
	if s := l.Stats(); s.Stale != 100 || s.Warm+s.Overlay != 0 {
		t.Fatalf("stats after %+v", s)
	}
}

func TestLayoutDeletionMarkerDroppedWithItsFile(t *testing.T) {
	l := New(files(4, 100), alpha, Policy{OverlayMax: 1, WarmMax: 1, StaleMax: 0.01})
	l.Update([]Entry{{Path: "f03", Deleted: true, Tokens: 5}})
	l.Compact(alpha)
	if d := describe(l); !slices.Equal(d, []string{"f00@v0/cold", "f01@v0/cold", "f02@v0/cold"}) {
		t.Fatalf("layout %v", d)
	}
}
