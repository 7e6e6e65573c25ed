package ingest

import (
	"strings"
	"testing"
)

func TestRetrieve(t *testing.T) {
	files := []*File{
		{Path: "internal/auth/token.go", Lang: "go", Content: []byte("package auth\n\nfunc RefreshToken() {}\n"), Symbols: []Symbol{{Name: "RefreshToken", Kind: SymFunc}}},
		{Path: "internal/db/pool.go", Lang: "go", Content: []byte("package db\n\n// connection pooling with retries\nfunc Open() {}\n"), Symbols: []Symbol{{Name: "Open", Kind: SymFunc}}},
		{Path: "docs/ops.md", Lang: "markdown", Content: []byte("# Operations\n\nbackups run nightly\n")},
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"How does RefreshToken handle expiry?", []string{"internal/auth/token.go"}},
		{"What is in internal/db/pool.go?", []string{"internal/db/pool.go"}},
		{"Explain ops.md", []string{"docs/ops.md"}},
		{"Where are connection retries configured for pooling?", []string{"internal/db/pool.go"}},
		{"What is the weather like?", nil},
	} {
		seg, got := Retrieve(tc.q, files, 1000, nil)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%q retrieved %v, want %v", tc.q, got, tc.want)
			continue
		}
		if len(got) > 0 && (seg.Kind != KindRetrieved || !strings.Contains(seg.Text, `<file path="`+got[0]+`"`)) {
			t.Errorf("%q: segment %+v", tc.q, seg)
		}
	}
	// The budget bounds what is returned.
	if _, got := Retrieve("RefreshToken and pool.go and ops.md", files, 60, nil); len(got) == 0 || len(got) == 3 {
		t.Errorf("a 60-token budget retrieved %v", got)
	}
	if seg, got := Retrieve("RefreshToken", files, 0, nil); got != nil || seg.Text != "" {
		t.Error("no budget must retrieve nothing")
	}
}
