package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

func packRepo(t *testing.T, edit func(root string)) *Pack {
	t.Helper()
	isolateGitConfig(t)
	root, repo := initRepo(t)
	write(t, root, "a.go", "package a\n\nfunc A() int { return 1 }\n")
	write(t, root, "b.md", "# b") // no trailing newline
	write(t, root, "c/c.go", "package c\n\ntype C struct{}\n\nfunc (c *C) M(x int) error { return nil }\n")
	write(t, root, "d.txt", "d\n")
	write(t, root, "blob.bin", "\x00\x01")
	commit(t, repo, "a.go", "b.md", "c/c.go", "d.txt", "blob.bin")
	if edit != nil {
		edit(root)
	}
	return BuildPack(scan(t, root, ScanOptions{}), PackOptions{RepoName: "demo"})
}

func TestBuildPackLayout(t *testing.T) {
	p := packRepo(t, nil)
	var kinds []SegmentKind
	var segPaths []string
	for _, s := range p.Segments {
		kinds = append(kinds, s.Kind)
		segPaths = append(segPaths, s.Path)
		sum := sha256.Sum256([]byte(s.Text))
		if s.Hash != hex.EncodeToString(sum[:]) {
			t.Errorf("%s %s: Hash is not sha256(Text)", s.Kind, s.Path)
		}
	}
	wantKinds := []SegmentKind{KindPreamble, KindFile, KindFile, KindFile, KindFile, KindMap}
	if !slices.Equal(kinds, wantKinds) {
		t.Fatalf("kinds = %v, want %v", kinds, wantKinds)
	}
	if want := []string{"", "a.go", "b.md", "c/c.go", "d.txt", ""}; !slices.Equal(segPaths, want) {
		t.Errorf("paths = %q, want %q", segPaths, want)
	}
	if len(p.Skipped) != 1 || p.Skipped[0] != (Skipped{"blob.bin", ReasonBinary}) {
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
	c := BuildPack(&ScanResult{Root: "/x/other"}, PackOptions{})
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
		write(t, root, "c/c.go", "package c\n\n// edited\ntype C struct{}\n\nfunc (c *C) M(x int) error { return nil }\n")
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
	got := fileText(&File{Path: `we"ird<name>&.txt`, Lang: "text", Content: []byte("x\n")})
	want := "<file path=\"we&quot;ird&lt;name&gt;&amp;.txt\" lang=\"text\">\nx\n</file>\n"
	if got != want {
		t.Errorf("fileText = %q, want %q", got, want)
	}
	if got := fileText(&File{Path: "e", Lang: "text"}); got != "<file path=\"e\" lang=\"text\">\n</file>\n" {
		t.Errorf("empty file text = %q", got)
	}
}
