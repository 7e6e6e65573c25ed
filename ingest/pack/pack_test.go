package pack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"lore/ingest"
	"lore/ingest/internal/ingesttest"
	"lore/ingest/scan"
)

func packRepo(t *testing.T, edit func(root string)) *ingest.Pack {
	t.Helper()
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, "a.go", "package a\n\nfunc A() int { return 1 }\n")
	ingesttest.Write(t, root, "b.md", "# b") // no trailing newline
	ingesttest.Write(t, root, "c/c.go", "package c\n\ntype C struct{}\n\nfunc (c *C) M(x int) error { return nil }\n")
	ingesttest.Write(t, root, "d.txt", "d\n")
	ingesttest.Write(t, root, "blob.bin", "\x00\x01")
	ingesttest.Commit(t, repo, "a.go", "b.md", "c/c.go", "d.txt", "blob.bin")
	if edit != nil {
		edit(root)
	}
	res, err := scan.Scan(context.Background(), root, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Build(res, Options{RepoName: "demo"})
}

func TestBuildPackLayout(t *testing.T) {
	p := packRepo(t, nil)
	var kinds []ingest.SegmentKind
	var segPaths []string
	for _, s := range p.Segments {
		kinds = append(kinds, s.Kind)
		segPaths = append(segPaths, s.Path)
		sum := sha256.Sum256([]byte(s.Text))
		if s.Hash != hex.EncodeToString(sum[:]) {
			t.Errorf("%s %s: Hash is not sha256(Text)", s.Kind, s.Path)
		}
	}
	wantKinds := []ingest.SegmentKind{ingest.KindPreamble, ingest.KindFile, ingest.KindFile, ingest.KindFile, ingest.KindFile, ingest.KindMap}
	if !slices.Equal(kinds, wantKinds) {
		t.Fatalf("kinds = %v, want %v", kinds, wantKinds)
	}
	if want := []string{"", "a.go", "b.md", "c/c.go", "d.txt", ""}; !slices.Equal(segPaths, want) {
		t.Errorf("paths = %q, want %q", segPaths, want)
	}
	if len(p.Skipped) != 1 || p.Skipped[0] != (ingest.Skipped{Path: "blob.bin", Reason: scan.ReasonBinary}) {
		t.Errorf("Skipped = %v", p.Skipped)
	}

	pre := p.Segments[0].Text
	if !strings.Contains(pre, "repository demo") || !strings.Contains(pre, "<map>") {
		t.Errorf("preamble = %q", pre)
	}
	if got, want := p.Segments[2].Text, "<file path=\"b.md\" lang=\"markdown\">\n# b\n</file>\n"; got != want {
		t.Errorf("b.md segment = %q, want %q", got, want)
	}
	if p.Segments[1].Lang != "go" || !strings.HasPrefix(p.Segments[1].Text, "<file path=\"a.go\" lang=\"go\">\npackage a\n") {
		t.Errorf("a.go segment = %+v", p.Segments[1])
	}
	wantMap := "<map>\na.go\n  func A() int\nb.md\nc/c.go\n  type C struct\n  func (c *C) M(x int) error\nd.txt\n</map>\n"
	if got := p.Segments[5].Text; got != wantMap {
		t.Errorf("map = %q\nwant %q", got, wantMap)
	}

	// Chain: chain[0] = sha256("" || hash[0]); chain[i] = sha256(chain[i-1] || hash[i]), raw bytes.
	var prev []byte
	for i, s := range p.Segments {
		h, _ := hex.DecodeString(s.Hash)
		sum := sha256.Sum256(append(append([]byte{}, prev...), h...))
		if s.Chain != hex.EncodeToString(sum[:]) {
			t.Errorf("segment %d: wrong chain", i)
		}
		prev = sum[:]
	}
	if !slices.Equal(p.Chains(), []string{p.Segments[0].Chain, p.Segments[1].Chain, p.Segments[2].Chain,
		p.Segments[3].Chain, p.Segments[4].Chain, p.Segments[5].Chain}) {
		t.Error("Chains() differs from the segments' chains")
	}
}

func TestBuildPackDeterministic(t *testing.T) {
	a := packRepo(t, nil)
	b := packRepo(t, nil) // another folder, same content
	if !slices.Equal(a.Chains(), b.Chains()) {
		t.Error("same content gave different chains")
	}
	for i := range a.Segments {
		if a.Segments[i] != b.Segments[i] {
			t.Errorf("segment %d differs", i)
		}
	}
	// The preamble depends on the repository name only.
	c := Build(&scan.Result{Root: "/x/other"}, Options{})
	if !strings.Contains(c.Segments[0].Text, "repository other ") {
		t.Errorf("default name: %q", c.Segments[0].Text)
	}
	if a.Segments[0].Hash == c.Segments[0].Hash {
		t.Error("different names gave the same preamble")
	}
}

func TestBuildPackEditChangesChainFromThere(t *testing.T) {
	base := packRepo(t, nil)
	edited := packRepo(t, func(root string) {
		ingesttest.Write(t, root, "c/c.go", "package c\n\n// edited\ntype C struct{}\n\nfunc (c *C) M(x int) error { return nil }\n")
	})
	// Segments: 0 preamble, 1 a.go, 2 b.md, 3 c/c.go, 4 d.txt, 5 map.
	for i := range base.Segments {
		sameHash := base.Segments[i].Hash == edited.Segments[i].Hash
		sameChain := base.Segments[i].Chain == edited.Segments[i].Chain
		switch {
		case i < 3:
			if !sameHash || !sameChain {
				t.Errorf("segment %d before the edit changed", i)
			}
		case i == 3:
			if sameHash || sameChain {
				t.Errorf("edited segment %d kept its hash or chain", i)
			}
		default:
			if sameChain {
				t.Errorf("segment %d after the edit kept its chain", i)
			}
		}
	}
	// The edit moved no signature: only the file's own hash changed.
	if base.Segments[4].Hash != edited.Segments[4].Hash || base.Segments[5].Hash != edited.Segments[5].Hash {
		t.Error("segments after the edit changed their own content hash")
	}
}

func TestFileTextEscapesHeader(t *testing.T) {
	got := ingest.FileText(&ingest.File{Path: `we"ird<name>&.txt`, Lang: "text", Content: []byte("x\n")})
	want := "<file path=\"we&quot;ird&lt;name&gt;&amp;.txt\" lang=\"text\">\nx\n</file>\n"
	if got != want {
		t.Errorf("fileText = %q, want %q", got, want)
	}
	if got := ingest.FileText(&ingest.File{Path: "e", Lang: "text"}); got != "<file path=\"e\" lang=\"text\">\n</file>\n" {
		t.Errorf("empty file text = %q", got)
	}
}

// A file its grammar cannot parse still goes into the pack as plain text.
func TestScanUnparsableFileKept(t *testing.T) {
	root := t.TempDir()
	broken := "def broken(:\n    class ((( {{{\n\x7f" + strings.Repeat("(", 3000) + "\n"
	ingesttest.Write(t, root, "broken.py", broken)
	res, err := scan.Scan(context.Background(), root, scan.Options{})
	if err != nil || len(res.Files) != 1 {
		t.Fatalf("scan: %v, %v", res, err)
	}
	if string(res.Files[0].Content) != broken {
		t.Fatal("the unparsable file's text was not kept")
	}
	p := Build(res, Options{})
	if !strings.Contains(p.Segments[1].Text, "class (((") {
		t.Fatal("the unparsable file is not in the pack")
	}
}
