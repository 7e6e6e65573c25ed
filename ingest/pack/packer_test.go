package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"lore/ingest"
	"lore/ingest/layout"
	"lore/ingest/scan"
	"lore/ingest/syntax"
)

func memFile(path, content string) ingest.File {
	sum := sha256.Sum256([]byte(content))
	return ingest.File{Path: path, Lang: syntax.DetectLang(path), Content: []byte(content), Size: int64(len(content)), Hash: hex.EncodeToString(sum[:])}
}

func packerScan() *scan.Result {
	res := &scan.Result{Root: "/repo"}
	for _, name := range []string{"a.go", "b.go", "c.go", "d.go"} {
		res.Files = append(res.Files, memFile(name, "package x\n\n// "+name+"\nfunc F() {}\n"+strings.Repeat("// filler line\n", 20)))
	}
	return res
}

func kinds(p *ingest.Pack) []string {
	var out []string
	for _, s := range p.Segments {
		out = append(out, string(s.Kind)+":"+s.Path)
	}
	return out
}

func TestPackerEditGoesToOverlay(t *testing.T) {
	pk := NewPacker(packerScan(), Options{}, layout.Policy{OverlayMax: 1, WarmMax: 1, StaleMax: 1})
	before := pk.Pack()
	if want := []string{"preamble:", "file:a.go", "file:b.go", "file:c.go", "file:d.go", "map:"}; !slices.Equal(kinds(before), want) {
		t.Fatalf("base %v", kinds(before))
	}
	edited := memFile("b.go", "package x\n\nfunc G() {}\n")
	n := pk.Update([]ingest.File{edited}, []string{"d.go"})
	after := pk.Pack()
	want := []string{"preamble:", "file:a.go", "file:b.go", "file:c.go", "file:d.go", "map:", "overlay:b.go", "overlay:d.go"}
	if !slices.Equal(kinds(after), want) {
		t.Fatalf("after edit %v", kinds(after))
	}
	// Everything up to the overlay is untouched: the KV prefix stays valid.
	for i := 0; i < 6; i++ {
		if after.Segments[i].Chain != before.Segments[i].Chain {
			t.Fatalf("segment %d changed", i)
		}
	}
	if got := ingest.EstimateTokens(after.Segments[6].Text) + ingest.EstimateTokens(after.Segments[7].Text); n != got {
		t.Fatalf("appended %d tokens, want %d", n, got)
	}
	if !strings.Contains(after.Segments[6].Text, "func G()") || after.Segments[7].Text != "<deleted path=\"d.go\"/>\n" {
		t.Fatalf("overlay texts %q %q", after.Segments[6].Text, after.Segments[7].Text)
	}
	// The same content again changes nothing.
	if n := pk.Update([]ingest.File{edited}, nil); n != 0 {
		t.Fatalf("no-op update appended %d", n)
	}
}

func TestPackerSyncAndCompact(t *testing.T) {
	res := packerScan()
	pk := NewPacker(res, Options{}, layout.Policy{OverlayMax: 0.01, WarmMax: 1, StaleMax: 1, StaleHard: 1})
	next := packerScan()
	next.Files[0] = memFile("a.go", "package x\n\nfunc A2() {}\n")
	next.Files = append(next.Files, memFile("e.go", "package x\n"))
	if n := pk.Sync(next); n == 0 {
		t.Fatal("Sync saw no change")
	}
	if got := kinds(pk.Pack()); !slices.Equal(got[len(got)-2:], []string{"overlay:a.go", "overlay:e.go"}) {
		t.Fatalf("after sync %v", got)
	}
	v := pk.Version()
	rb := pk.Compact(nil)
	if rb.Kind != "warm" || pk.Version() == v {
		t.Fatalf("compact %+v", rb)
	}
	got := kinds(pk.Pack())
	want := []string{"preamble:", "file:a.go", "file:b.go", "file:c.go", "file:d.go", "file:a.go", "file:e.go", "map:"}
	if !slices.Equal(got, want) {
		t.Fatalf("after compact %v", got)
	}
	if s := pk.Stats(); s.Overlay != 0 || s.Stale == 0 {
		t.Fatalf("stats %+v: the stale cold copy of a.go stays until a cold rebuild", s)
	}
}

func TestPackerBudgetRebuild(t *testing.T) {
	res := packerScan()
	one := ingest.EstimateTokens(ingest.FileText(&res.Files[0]))
	pk := NewPacker(res, Options{Budget: 8 * one}, layout.DefaultPolicy)
	// Grow a file far past the budget: the next compaction rebuilds the pack
	// to fit again, reducing files.
	big := memFile("c.go", "package x\n\nfunc Big() {}\n"+strings.Repeat("// more\n", 400))
	pk.Update([]ingest.File{big}, nil)
	if rb := pk.Compact(nil); rb.Kind != "full" {
		t.Fatalf("compaction of an over-budget pack: %+v", rb)
	}
	p := pk.Pack()
	total := 0
	for _, s := range p.Segments {
		total += ingest.EstimateTokens(s.Text)
	}
	if total > 8*one || len(p.Reduced) == 0 {
		t.Fatalf("rebuilt pack: %d tokens (budget %d), reduced %v", total, 8*one, p.Reduced)
	}
}

// An edit's old versions alone can push a pack past its budget: then the
// stale text goes and the files stay as they were laid out, unless that
// would lay out most of the pack again (a full rebuild keeps more of it).
func TestPackerBudgetDropsStale(t *testing.T) {
	total := 0
	for _, s := range NewPacker(packerScan(), Options{}, layout.DefaultPolicy).Pack().Segments {
		total += ingest.EstimateTokens(s.Text)
	}
	overBudget := func(path string) (*Packer, layout.Rebuild) {
		// No stale limit: only the budget calls for compaction here.
		pk := NewPacker(packerScan(), Options{Budget: total * 13 / 10}, layout.Policy{WarmMax: 1, StaleMax: 1})
		if len(pk.Pack().Reduced) != 0 {
			t.Fatal("the files do not fit in full to begin with")
		}
		for i := 0; !pk.MustCompact(); i++ {
			if i == 20 {
				t.Fatal("edits never pushed the pack past its budget")
			}
			pk.Update([]ingest.File{memFile(path, fmt.Sprintf("package x\n\n// edit %d\nfunc F() {}\n%s", i, strings.Repeat("// filler line\n", 20)))}, nil)
		}
		return pk, pk.Compact(nil)
	}
	// d.go is laid out last: dropping its old copies re-lays out only it.
	pk, rb := overBudget("d.go")
	if rb.Kind == "full" || rb.Kind == "" || rb.Stale == 0 {
		t.Fatalf("compaction of a pack over its budget by stale text: %+v", rb)
	}
	if s := pk.Stats(); s.Stale != 0 || pk.MustCompact() || len(pk.Pack().Reduced) != 0 {
		t.Fatalf("after it: %+v, must compact %v, reduced %v", s, pk.MustCompact(), pk.Pack().Reduced)
	}
	// a.go comes first: dropping its old copy would lay out everything.
	if _, rb := overBudget("a.go"); rb.Kind != "full" {
		t.Fatalf("stale text at the start: %+v, want a full rebuild", rb)
	}
}

func TestPackerRebuild(t *testing.T) {
	pk := NewPacker(packerScan(), Options{}, layout.Policy{OverlayMax: 1, WarmMax: 1, StaleMax: 1})
	pk.Update([]ingest.File{memFile("a.go", "package x\n\nfunc A2() {}\n")}, []string{"c.go"})
	reverse := func(paths []string) []string {
		out := slices.Clone(paths)
		slices.Sort(out)
		slices.Reverse(out)
		return out
	}
	pk.Rebuild(reverse)
	if got := kinds(pk.Pack()); !slices.Equal(got, []string{"preamble:", "file:d.go", "file:b.go", "file:a.go", "map:"}) {
		t.Fatalf("rebuilt pack %v", got)
	}
	if s := pk.Stats(); s.Stale != 0 || s.Overlay != 0 {
		t.Fatalf("stats after a rebuild %+v", s)
	}
}

func TestPackerResume(t *testing.T) {
	res := packerScan()
	pk := NewPacker(res, Options{}, layout.Policy{OverlayMax: 1, WarmMax: 1, StaleMax: 1})
	pk.Update([]ingest.File{memFile("b.go", "package x\n\nfunc B2() {}\n")}, nil)
	before := pk.Pack()
	st := pk.State()
	for _, s := range st.Segments {
		if s.Text != "" {
			t.Fatal("the state carries segment texts")
		}
	}

	// Restarted on the same tree plus one more edit: the old pack is kept
	// whole and the edit goes to the overlay.
	next := packerScan()
	next.Files[1] = memFile("b.go", "package x\n\nfunc B2() {}\n")
	next.Files[3] = memFile("d.go", "package x\n\nfunc D2() {}\n")
	resumed, err := ResumePacker(st, next, Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := resumed.Pack()
	if len(after.Segments) != len(before.Segments)+1 {
		t.Fatalf("resumed pack %v, was %v", kinds(after), kinds(before))
	}
	for i := range before.Segments {
		if after.Segments[i].Chain != before.Segments[i].Chain {
			t.Fatalf("segment %d changed on resume", i)
		}
	}
	if last := after.Segments[len(after.Segments)-1]; last.Path != "d.go" || last.Kind != ingest.KindOverlay || !strings.Contains(last.Text, "D2") {
		t.Fatalf("the edit made while stopped is not in the overlay: %+v", last)
	}
	// Files come back with their content, for retrieval and rebuilds.
	resumed.Rebuild(nil)
	for _, s := range resumed.Pack().Segments {
		if s.Kind == ingest.KindFile && s.Text == "" {
			t.Fatalf("%s lost its text", s.Path)
		}
	}

	other := packerScan()
	other.Root = "/elsewhere"
	if _, err := ResumePacker(st, other, Options{}); err == nil {
		t.Error("a state for another root was resumed")
	}
	st.Format = 99
	if _, err := ResumePacker(st, next, Options{}); err == nil {
		t.Error("a state of another format was resumed")
	}
}
