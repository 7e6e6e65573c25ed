package rank

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"math/rand"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"lore/ingest"
	"lore/ingest/scan"
)

// rankFile makes a File that defines defs (functions, one per line) and uses
// refs (each once in its content, unless a ref is repeated).
func rankFile(path string, defs []string, refs ...string) ingest.File {
	f := ingest.File{Path: path, Lang: "go"}
	var b strings.Builder
	for i, d := range defs {
		f.Symbols = append(f.Symbols, ingest.Symbol{
			Name: d, Kind: ingest.SymFunc, StartLine: i + 1, EndLine: i + 1,
			Signature: "func " + rankSymbolIdent(d) + "()",
		})
		b.WriteString("func " + rankSymbolIdent(d) + "() {}\n")
	}
	for _, r := range refs {
		b.WriteString("\t" + r + "()\n")
	}
	f.Refs = slices.Compact(slices.Sorted(slices.Values(refs)))
	f.Content = []byte(b.String())
	f.Size = int64(len(f.Content))
	return f
}

// rankSyntheticRepo: util.go defines ComputeChecksum, used by every other
// file; model.go defines a type two files use; the rest are leaves.
func rankSyntheticRepo() []ingest.File {
	return []ingest.File{
		rankFile("util.go", []string{"ComputeChecksum", "rarelyUsed"}, "NewModel"),
		rankFile("model.go", []string{"NewModel", "Model.Validate"}, "ComputeChecksum"),
		rankFile("a.go", []string{"handleA"}, "ComputeChecksum", "NewModel", "Validate"),
		rankFile("b.go", []string{"handleB"}, "ComputeChecksum", "NewModel"),
		rankFile("c.go", []string{"handleC"}, "ComputeChecksum"),
		rankFile("d.go", []string{"handleD"}, "ComputeChecksum", "rarelyUsed"),
		rankFile("README.md", nil),
	}
}

func rankPaths(rs []Ranked) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Path)
	}
	return out
}

func rankScore(rs []Ranked, path string) float64 {
	for _, r := range rs {
		if r.Path == path {
			return r.Score
		}
	}
	return math.NaN()
}

func TestRankUtilityFirst(t *testing.T) {
	rs := Rank(rankSyntheticRepo(), Options{})
	got := rankPaths(rs)
	if len(got) != 7 {
		t.Fatalf("got %d files, want 7: %q", len(got), got)
	}
	if got[0] != "util.go" || got[1] != "model.go" {
		t.Errorf("order = %q, want util.go then model.go first", got)
	}
	sum := 0.0
	for _, r := range rs {
		if !(r.Score > 0) {
			t.Errorf("%s: score %v, want > 0 (teleport)", r.Path, r.Score)
		}
		sum += r.Score
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("scores sum to %v, want 1", sum)
	}
	// The leaves a.go..d.go have no incoming edges and README.md none at
	// all: they tie, and ties go by path.
	leaves := got[2:]
	if !slices.IsSorted(leaves) {
		t.Errorf("tied files not in path order: %q", leaves)
	}
	for i := range rs {
		if i > 0 && rs[i].Score > rs[i-1].Score {
			t.Errorf("not sorted by score at %d: %v > %v", i, rs[i].Score, rs[i-1].Score)
		}
	}
}

func TestRankSymbolScores(t *testing.T) {
	rs := Rank(rankSyntheticRepo(), Options{})
	for _, r := range rs {
		sum := 0.0
		for _, s := range r.Symbols {
			sum += s.Score
		}
		if len(r.Symbols) > 0 && math.Abs(sum-r.Score) > 1e-12 {
			t.Errorf("%s: symbol scores sum to %v, file score %v", r.Path, sum, r.Score)
		}
	}
	util := rs[0]
	if util.Symbols[0].Name != "ComputeChecksum" || !(util.Symbols[0].Score > 3*util.Symbols[1].Score) {
		t.Errorf("util.go symbols = %+v, want ComputeChecksum far ahead of rarelyUsed", util.Symbols)
	}
	// The method Model.Validate is reached through its bare name.
	for _, r := range rs {
		if r.Path != "model.go" {
			continue
		}
		for _, s := range r.Symbols {
			if s.Name == "Model.Validate" && !(s.Score > 0) {
				t.Errorf("Model.Validate score %v, want > 0", s.Score)
			}
		}
	}
	// Unreferenced files share their score equally, in line order.
	for _, r := range rs {
		if r.Path == "a.go" && (len(r.Symbols) != 1 || r.Symbols[0].Score != r.Score) {
			t.Errorf("a.go symbols = %+v, score %v", r.Symbols, r.Score)
		}
	}
}

func TestRankPersonalize(t *testing.T) {
	files := rankSyntheticRepo()
	base := Rank(files, Options{})
	pers := Rank(files, Options{Personalize: map[string]float64{"c.go": 1, "missing.go": 5, "d.go": -1}})
	if b, p := rankScore(base, "c.go"), rankScore(pers, "c.go"); !(p > 3*b) {
		t.Errorf("c.go: score %v personalised vs %v uniform, want much higher", p, b)
	}
	if b, p := rankScore(base, "a.go"), rankScore(pers, "a.go"); !(p < b) || !(p > 0) {
		t.Errorf("a.go: score %v personalised vs %v uniform, want lower but positive", p, b)
	}
	// c.go's only reference is util.go, which gains relative to model.go.
	if rb, rp := rankScore(base, "util.go")/rankScore(base, "model.go"), rankScore(pers, "util.go")/rankScore(pers, "model.go"); !(rp > rb) {
		t.Errorf("util.go/model.go = %v personalised vs %v uniform, want higher", rp, rb)
	}
	// Nothing usable is the uniform ranking.
	none := Rank(files, Options{Personalize: map[string]float64{"nope": 1, "a.go": 0}})
	if !reflect.DeepEqual(none, base) {
		t.Errorf("unusable personalisation changed the ranking")
	}
}

func TestRankDeterministic(t *testing.T) {
	files := rankSyntheticRepo()
	want := Rank(files, Options{})
	rng := rand.New(rand.NewSource(1))
	for range 20 {
		shuffled := slices.Clone(files)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Rank(shuffled, Options{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("ranking depends on input order:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestRankEmpty(t *testing.T) {
	if got := Rank(nil, Options{}); len(got) != 0 {
		t.Errorf("Rank(nil) = %+v", got)
	}
	one := Rank([]ingest.File{{Path: "x.txt"}}, Options{})
	if len(one) != 1 || one[0].Score != 1 || one[0].Symbols != nil {
		t.Errorf("Rank(one file) = %+v", one)
	}
}

func TestRankWeights(t *testing.T) {
	// hub.go is referenced once by each of two files through a distinctive
	// name; common.go through the same number of references to "String"
	// and short "Do", which are damped.
	files := []ingest.File{
		rankFile("hub.go", []string{"parseHeaderValue"}),
		rankFile("common.go", []string{"T.String", "Do"}),
		rankFile("x.go", nil, "parseHeaderValue", "String", "Do"),
		rankFile("y.go", nil, "parseHeaderValue", "String", "Do"),
	}
	rs := Rank(files, Options{})
	if rs[0].Path != "hub.go" || !(rankScore(rs, "hub.go") > 1.5*rankScore(rs, "common.go")) {
		t.Errorf("ranking %q %v: want hub.go well ahead of common.go", rankPaths(rs), rs)
	}

	// Files whose only reference is a damped name (a builtin that the
	// repository happens to define as a method) follow it only in part.
	files = []ingest.File{
		rankFile("hub.go", []string{"parseHeaderValue"}),
		rankFile("lenner.go", []string{"queue.len"}),
		rankFile("p.go", nil, "parseHeaderValue"),
		rankFile("q.go", nil, "len"),
		rankFile("r.go", nil, "len"),
		rankFile("s.go", nil, "len"),
	}
	rs = Rank(files, Options{})
	if rs[0].Path != "hub.go" {
		t.Errorf("ranking %q %v: want hub.go first", rankPaths(rs), rs)
	}

	// A name defined in two files splits its weight; one a file defines
	// itself adds no edge.
	files = []ingest.File{
		rankFile("one.go", []string{"sharedName"}),
		rankFile("two.go", []string{"sharedName"}),
		rankFile("only.go", []string{"uniqueName"}),
		rankFile("user.go", []string{"sharedName"}, "sharedName", "uniqueName"),
	}
	rs = Rank(files, Options{})
	if rs[0].Path != "only.go" {
		t.Errorf("ranking %q: want only.go first", rankPaths(rs))
	}
	if a, b := rankScore(rs, "one.go"), rankScore(rs, "two.go"); a != b {
		t.Errorf("one.go %v and two.go %v should tie", a, b)
	}

	// More uses weigh more (sqrt of the count in the content).
	files = []ingest.File{
		rankFile("often.go", []string{"oftenUsed"}),
		rankFile("once.go", []string{"onceUsed"}),
		rankFile("user.go", nil, "oftenUsed", "oftenUsed", "oftenUsed", "oftenUsed", "onceUsed"),
	}
	rs = Rank(files, Options{})
	if rs[0].Path != "often.go" || !(rankScore(rs, "often.go") > rankScore(rs, "once.go")) {
		t.Errorf("ranking %q %v: want often.go first", rankPaths(rs), rs)
	}
}

func TestRankOptionsDefaults(t *testing.T) {
	files := rankSyntheticRepo()
	want := Rank(files, Options{})
	for _, o := range []Options{{Damping: DefaultDamping, Iterations: DefaultIterations}, {Damping: 1.5, Iterations: -1}, {Damping: math.NaN()}} {
		if got := Rank(files, o); !reflect.DeepEqual(got, want) {
			t.Errorf("Rank(%+v) differs from the defaults", o)
		}
	}
	// One iteration is not converged but still a ranking of every file.
	if got := Rank(files, Options{Iterations: 1}); len(got) != len(files) {
		t.Errorf("Iterations 1: %d files", len(got))
	}
}

// goRefsForTest fills the Refs of Go files that have none with the names
// their calls and type expressions use, as aider's tree-sitter queries for Go
// do (a stand-in for the tree-sitter references, for tests only). It reports
// whether it filled any.
func goRefsForTest(files []ingest.File) bool {
	filled := false
	fset := token.NewFileSet()
	for i := range files {
		f := &files[i]
		if f.Lang != "go" || len(f.Refs) > 0 {
			continue
		}
		af, _ := parser.ParseFile(fset, f.Path, f.Content, parser.SkipObjectResolution)
		if af == nil {
			continue
		}
		set := map[string]bool{}
		var typ func(e ast.Expr)
		typ = func(e ast.Expr) {
			if e == nil {
				return
			}
			ast.Inspect(e, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.Ident:
					set[x.Name] = true
				case *ast.SelectorExpr: // pkg.Type: the package name is no reference
					set[x.Sel.Name] = true
					return false
				case *ast.Field:
					typ(x.Type)
					return false
				}
				return true
			})
		}
		var callee func(e ast.Expr)
		callee = func(e ast.Expr) {
			switch x := e.(type) {
			case *ast.Ident:
				set[x.Name] = true
			case *ast.SelectorExpr:
				set[x.Sel.Name] = true
			case *ast.ParenExpr:
				callee(x.X)
			case *ast.IndexExpr:
				callee(x.X)
			case *ast.IndexListExpr:
				callee(x.X)
			default:
				typ(e) // conversions such as []byte(s)
			}
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				callee(x.Fun)
			case *ast.Field:
				typ(x.Type)
			case *ast.ValueSpec:
				typ(x.Type)
			case *ast.TypeSpec:
				typ(x.Type)
			case *ast.CompositeLit:
				typ(x.Type)
			case *ast.TypeAssertExpr:
				typ(x.Type)
			}
			return true
		})
		delete(set, "_")
		f.Refs = make([]string, 0, len(set))
		for id := range set {
			f.Refs = append(f.Refs, id)
		}
		sort.Strings(f.Refs)
		filled = true
	}
	return filled
}

func netHTTPFiles(tb testing.TB) []ingest.File {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Skipf("go env GOROOT: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "src", "net", "http")
	res, err := scan.Scan(context.Background(), dir, scan.Options{})
	if err != nil {
		tb.Skipf("scan %s: %v", dir, err)
	}
	goRefsForTest(res.Files)
	return res.Files
}

func TestRankNetHTTP(t *testing.T) {
	files := netHTTPFiles(t)
	refs := 0
	for _, f := range files {
		refs += len(f.Refs)
	}
	if refs == 0 {
		t.Skip("no references in the scanned files")
	}
	rs := Rank(files, Options{})
	if len(rs) != len(files) {
		t.Fatalf("%d ranked, %d files", len(rs), len(files))
	}
	var top []string
	for _, r := range rs[:10] {
		top = append(top, r.Path)
	}
	t.Logf("top 10: %q", top)
	for i, r := range rs[:5] {
		if len(r.Symbols) > 0 {
			t.Logf("%d %s %.4f: %s %.4f", i, r.Path, r.Score, r.Symbols[0].Name, r.Symbols[0].Score)
		}
	}
	central := map[string]bool{"server.go": true, "request.go": true, "header.go": true, "transport.go": true, "response.go": true, "http.go": true, "client.go": true}
	hits := 0
	for _, p := range top {
		if central[p] {
			hits++
		}
	}
	if hits < 3 {
		t.Errorf("top 10 %q holds %d of the central files, want at least 3", top, hits)
	}
	if strings.HasSuffix(top[0], "_test.go") || strings.Contains(top[0], "/") {
		t.Errorf("top file %s: want a top-level non-test file", top[0])
	}

	// A question about cookies pulls cookie.go up.
	pers := Rank(files, Options{Personalize: map[string]float64{"cookie.go": 1, "cookiejar/jar.go": 1}})
	pos := func(rs []Ranked, p string) int {
		return slices.IndexFunc(rs, func(r Ranked) bool { return r.Path == p })
	}
	if a, b := pos(pers, "cookie.go"), pos(rs, "cookie.go"); !(a < b) {
		t.Errorf("cookie.go at %d personalised, %d uniform", a, b)
	}
}

// BenchmarkRankNetHTTP ranks $(go env GOROOT)/src/net/http (scanned once,
// with go/ast references when the scan has none).
func BenchmarkRankNetHTTP(b *testing.B) {
	files := netHTTPFiles(b)
	syms, refs := 0, 0
	for _, f := range files {
		syms += len(f.Symbols)
		refs += len(f.Refs)
	}
	for b.Loop() {
		Rank(files, Options{})
	}
	b.ReportMetric(float64(len(files)), "files")
	b.ReportMetric(float64(syms), "symbols")
	b.ReportMetric(float64(refs), "refs")
}
