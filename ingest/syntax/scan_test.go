package syntax_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"lore/ingest"
	"lore/ingest/internal/ingesttest"
	"lore/ingest/scan"
	"lore/ingest/syntax"
)

// countKV is an in-memory KV that counts its calls on parse results (the
// content verdicts the scan also caches are stored but not counted).
type countKV struct {
	mu               sync.Mutex
	m                map[string][]byte
	gets, hits, puts int
}

func newCountKV() *countKV { return &countKV{m: map[string][]byte{}} }

func (k *countKV) Get(key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	if strings.HasPrefix(key, "parse/") {
		k.gets++
		if ok {
			k.hits++
		}
	}
	return v, ok, nil
}

func (k *countKV) Put(key string, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if strings.HasPrefix(key, "parse/") {
		k.puts++
	}
	k.m[key] = append([]byte(nil), val...)
	return nil
}

func (k *countKV) reset() {
	k.mu.Lock()
	k.gets, k.hits, k.puts = 0, 0, 0
	k.mu.Unlock()
}

// brokenKV fails every call.
type brokenKV struct{}

func (brokenKV) Get(string) ([]byte, bool, error) { return nil, false, errors.New("broken store") }
func (brokenKV) Put(string, []byte) error         { return errors.New("broken store") }

// sourceTree writes one sample file per language plus a README.
func sourceTree(t *testing.T) (string, int) {
	t.Helper()
	root := t.TempDir()
	ext := map[string]string{
		"go": "go", "python": "py", "javascript": "js", "typescript": "ts", "tsx": "tsx", "rust": "rs",
		"java": "java", "c": "c", "cpp": "cpp", "ruby": "rb", "bash": "sh", "php": "php", "csharp": "cs",
		"kotlin": "kt", "lua": "lua", "scala": "scala",
	}
	n := 0
	for _, lang := range syntax.Languages() {
		e, ok := ext[lang]
		if !ok {
			t.Fatalf("no extension for %s", lang)
		}
		ingesttest.Write(t, root, "src/sample_"+lang+"."+e, syntax.Samples[lang])
		n++
	}
	ingesttest.Write(t, root, "README.md", "# demo\n")
	return root, n
}

func TestScanParsesEveryLanguage(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, n := sourceTree(t)
	res := mustScan(t, root, scan.Options{})
	parsed := 0
	for _, f := range res.Files {
		if !syntax.HasGrammar(f.Lang) {
			if len(f.Symbols) > 0 || len(f.Refs) > 0 {
				t.Errorf("%s (%s): symbols without a grammar", f.Path, f.Lang)
			}
			continue
		}
		parsed++
		p, _ := syntax.Parse(f.Lang, f.Content)
		if len(f.Symbols) == 0 || !reflect.DeepEqual(f.Symbols, p.Symbols) || !reflect.DeepEqual(f.Refs, p.Refs) {
			t.Errorf("%s (%s): scan gave %d symbols, %d refs; Parse %d, %d",
				f.Path, f.Lang, len(f.Symbols), len(f.Refs), len(p.Symbols), len(p.Refs))
		}
	}
	if parsed != n {
		t.Errorf("%d files parsed, want %d", parsed, n)
	}
}

func TestScanParseCache(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, n := sourceTree(t)
	kv := newCountKV()

	before := syntax.ParseCount.Load()
	cold := mustScan(t, root, scan.Options{Cache: kv})
	if got := syntax.ParseCount.Load() - before; got != int64(n) {
		t.Errorf("cold scan: %d parses, want %d", got, n)
	}
	if kv.puts != n || kv.hits != 0 {
		t.Errorf("cold scan: %d puts, %d hits; want %d, 0", kv.puts, kv.hits, n)
	}
	for key := range kv.m {
		if !strings.HasPrefix(key, "parse/v1/") && !strings.HasPrefix(key, "verdict/v1/") {
			t.Errorf("key %q", key)
		}
	}
	if f := fileByPath(cold, "src/sample_go.go"); f == nil || kv.m[syntax.ParseCacheKey("go", f.Hash)] == nil {
		t.Errorf("no cache entry for the Go file under its content hash")
	}

	// Unchanged tree: no parse at all, same results.
	kv.reset()
	before = syntax.ParseCount.Load()
	warm := mustScan(t, root, scan.Options{Cache: kv})
	if got := syntax.ParseCount.Load() - before; got != 0 {
		t.Errorf("warm scan: %d parses, want 0", got)
	}
	if kv.hits != n || kv.puts != 0 {
		t.Errorf("warm scan: %d hits, %d puts; want %d, 0", kv.hits, kv.puts, n)
	}
	if !reflect.DeepEqual(cold.Files, warm.Files) {
		t.Errorf("warm scan differs from the cold one")
	}

	// One file changed: one parse.
	ingesttest.Write(t, root, "src/sample_python.py", syntax.Samples["python"]+"\ndef extra():\n    pass\n")
	before = syntax.ParseCount.Load()
	res := mustScan(t, root, scan.Options{Cache: kv})
	if got := syntax.ParseCount.Load() - before; got != 1 {
		t.Errorf("after an edit: %d parses, want 1", got)
	}
	if f := fileByPath(res, "src/sample_python.py"); f == nil || f.Symbols[len(f.Symbols)-1].Name != "extra" {
		t.Errorf("edited file not parsed again")
	}

	// A corrupt entry is parsed again and replaced.
	f := fileByPath(res, "src/sample_go.go")
	kv.m[syntax.ParseCacheKey("go", f.Hash)] = []byte("{not json")
	before = syntax.ParseCount.Load()
	res = mustScan(t, root, scan.Options{Cache: kv})
	if got := syntax.ParseCount.Load() - before; got != 1 {
		t.Errorf("corrupt entry: %d parses, want 1", got)
	}
	if g := fileByPath(res, "src/sample_go.go"); !reflect.DeepEqual(g.Symbols, f.Symbols) {
		t.Errorf("corrupt entry: symbols %+v", g.Symbols)
	}

	// A failing store costs parses, never results.
	res = mustScan(t, root, scan.Options{Cache: brokenKV{}})
	if g := fileByPath(res, "src/sample_go.go"); !reflect.DeepEqual(g.Symbols, f.Symbols) {
		t.Errorf("failing store: symbols %+v", g.Symbols)
	}
}

func goNetDir(b *testing.B) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skipf("go env GOROOT: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "src", "net")
}

// BenchmarkScanNetCold scans $(go env GOROOT)/src/net parsing every file.
func BenchmarkScanNetCold(b *testing.B) {
	dir := goNetDir(b)
	var files, syms, refs int
	for b.Loop() {
		res, err := scan.Scan(context.Background(), dir, scan.Options{})
		if err != nil {
			b.Fatal(err)
		}
		files, syms, refs = len(res.Files), 0, 0
		for _, f := range res.Files {
			syms += len(f.Symbols)
			refs += len(f.Refs)
		}
	}
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(syms), "symbols")
	b.ReportMetric(float64(refs), "refs")
}

// BenchmarkScanNetWarm scans the same tree with a warm in-memory parse
// cache: no tree-sitter parse at all.
func BenchmarkScanNetWarm(b *testing.B) {
	dir := goNetDir(b)
	kv := newCountKV()
	if _, err := scan.Scan(context.Background(), dir, scan.Options{Cache: kv}); err != nil {
		b.Fatal(err)
	}
	before := syntax.ParseCount.Load()
	for b.Loop() {
		if _, err := scan.Scan(context.Background(), dir, scan.Options{Cache: kv}); err != nil {
			b.Fatal(err)
		}
	}
	if n := syntax.ParseCount.Load() - before; n != 0 {
		b.Fatalf("%d parses with a warm cache", n)
	}
}

func mustScan(t *testing.T, root string, opts scan.Options) *scan.Result {
	t.Helper()
	res, err := scan.Scan(context.Background(), root, opts)
	if err != nil {
		t.Fatalf("Scan(%s): %v", root, err)
	}
	return res
}

func fileByPath(res *scan.Result, p string) *ingest.File {
	for i := range res.Files {
		if res.Files[i].Path == p {
			return &res.Files[i]
		}
	}
	return nil
}
