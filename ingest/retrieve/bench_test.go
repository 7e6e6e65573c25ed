package retrieve

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lore/ingest"
	"lore/ingest/scan"
)

// BenchmarkRetrieve times one question's retrieval over every file of
// $(go env GOROOT)/src as candidates (a repository far larger than its
// context): a question that names no file, so the content search reads all
// of them.
func BenchmarkRetrieve(b *testing.B) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skipf("go env GOROOT: %v", err)
	}
	res, err := scan.Scan(context.Background(), filepath.Join(strings.TrimSpace(string(out)), "src"), scan.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cands := make([]*ingest.File, len(res.Files))
	for i := range res.Files {
		cands[i] = &res.Files[i]
	}
	b.ResetTimer()
	for b.Loop() {
		Retrieve("Where are connection retries configured for pooling?", cands, 4096, nil)
	}
	b.ReportMetric(float64(len(cands)), "files")
}
