package ingest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkScanBuildPack scans and packs $(go env GOROOT)/src/net, a plain
// folder (no git) of a few hundred Go files.
func BenchmarkScanBuildPack(b *testing.B) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skipf("go env GOROOT: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "src", "net")
	var files, syms, bytes int
	for b.Loop() {
		res, err := Scan(context.Background(), dir, ScanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		p := BuildPack(res, PackOptions{})
		files, syms, bytes = len(res.Files), 0, 0
		for _, f := range res.Files {
			syms += len(f.Symbols)
		}
		for _, s := range p.Segments {
			bytes += len(s.Text)
		}
	}
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(syms), "symbols")
	b.ReportMetric(float64(bytes), "packbytes")
}

// BenchmarkRetrieve times one question's retrieval over every file of
// $(go env GOROOT)/src as candidates (a repository far larger than its
// context): a question that names no file, so the keyword search reads all
// of them.
func BenchmarkRetrieve(b *testing.B) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skipf("go env GOROOT: %v", err)
	}
	res, err := Scan(context.Background(), filepath.Join(strings.TrimSpace(string(out)), "src"), ScanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	cands := make([]*File, len(res.Files))
	for i := range res.Files {
		cands[i] = &res.Files[i]
	}
	b.ResetTimer()
	for b.Loop() {
		Retrieve("Where are connection retries configured for pooling?", cands, 4096, nil)
	}
	b.ReportMetric(float64(len(cands)), "files")
}
