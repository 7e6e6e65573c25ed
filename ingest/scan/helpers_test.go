package scan

import (
	"context"
	"slices"
	"testing"

	"lore/ingest"
)

func scan(t *testing.T, root string, opts Options) *Result {
	t.Helper()
	res, err := Scan(context.Background(), root, opts)
	if err != nil {
		t.Fatalf("Scan(%s): %v", root, err)
	}
	return res
}

func paths(res *Result) []string {
	var out []string
	for _, f := range res.Files {
		out = append(out, f.Path)
	}
	return out
}

func skippedMap(res *Result) map[string]string {
	m := map[string]string{}
	for _, s := range res.Skipped {
		m[s.Path] = s.Reason
	}
	return m
}

func wantPaths(t *testing.T, res *Result, want ...string) {
	t.Helper()
	got := paths(res)
	if !slices.Equal(got, want) {
		t.Errorf("files:\n got %q\nwant %q", got, want)
	}
}

func fileByPath(res *Result, p string) *ingest.File {
	for i := range res.Files {
		if res.Files[i].Path == p {
			return &res.Files[i]
		}
	}
	return nil
}
