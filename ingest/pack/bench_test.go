package pack

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lore/ingest/scan"
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
		res, err := scan.Scan(context.Background(), dir, scan.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p := Build(res, Options{})
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
