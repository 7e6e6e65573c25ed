package history

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"lore/ingest/internal/ingesttest"
	"lore/ingest/scan"
)

// memKV is an in-memory KV for tests; it counts puts and can fail on demand.
type memKV struct {
	mu      sync.Mutex
	m       map[string][]byte
	puts    int
	failGet error
}

func newMemKV() *memKV { return &memKV{m: map[string][]byte{}} }

func (k *memKV) Get(key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failGet != nil {
		return nil, false, k.failGet
	}
	v, ok := k.m[key]
	return slices.Clone(v), ok, nil
}

func (k *memKV) Put(key string, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = slices.Clone(val)
	k.puts++
	return nil
}

// gitRepo is a repository driven by the git binary, with fixed identities
// and dates so hashes are reproducible.
type gitRepo struct {
	t    testing.TB
	dir  string
	tick int
}

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not available")
	}
}

func newGitRepo(t testing.TB) *gitRepo {
	t.Helper()
	needGit(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	return runGit(r.t, r.dir, &r.tick, args...)
}

func runGit(t testing.TB, dir string, tick *int, args ...string) string {
	t.Helper()
	*tick++
	date := fmt.Sprintf("%d +0000", 1700000000+*tick)
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE="+date,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *gitRepo) write(rel, content string) {
	r.t.Helper()
	writeTB(r.t, r.dir, rel, content)
}

// commit writes the files (path -> content) and commits everything.
func (r *gitRepo) commit(msg string, files ...string) string {
	r.t.Helper()
	for i := 0; i+1 < len(files); i += 2 {
		writeTB(r.t, r.dir, files[i], files[i+1])
	}
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func writeTB(t testing.TB, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func loadHeat(t testing.TB, root string, opts HeatOptions) *Heat {
	t.Helper()
	h, err := LoadHeat(context.Background(), root, opts)
	if err != nil {
		t.Fatalf("LoadHeat: %v", err)
	}
	return h
}

func w(k, halfLife int) float64 { return math.Pow(0.5, float64(k)/float64(halfLife)) }

func wantScores(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for p, v := range want {
		if g, ok := got[p]; !ok || math.Abs(g-v) > 1e-9 {
			t.Errorf("score[%s] = %v (present %v), want %v", p, g, ok, v)
		}
	}
	for p, v := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected score[%s] = %v", p, v)
		}
	}
}

func dirtyList(h *Heat) []string {
	var out []string
	for p, d := range h.Dirty {
		if d {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func TestHeatScoresHandComputed(t *testing.T) {
	r := newGitRepo(t)
	r.commit("c0", "a.go", "a0", "b.go", "b0", "dir/c.go", "c0")
	r.commit("c1", "a.go", "a1")
	r.commit("c2", "a.go", "a2", "b.go", "b2")
	head := r.commit("c3", "dir/c.go", "c3")

	const hl = 2
	h := loadHeat(t, r.dir, HeatOptions{HalfLife: hl})
	if h.Head != head {
		t.Errorf("Head = %s, want %s", h.Head, head)
	}
	// k: c3=0, c2=1, c1=2, c0=3
	wantScores(t, h.Scores, map[string]float64{
		"a.go":     w(1, hl) + w(2, hl) + w(3, hl),
		"b.go":     w(1, hl) + w(3, hl),
		"dir/c.go": w(0, hl) + w(3, hl),
	})
	if h.Walked != 4 || h.FromCache {
		t.Errorf("Walked = %d, FromCache = %v; want 4, false", h.Walked, h.FromCache)
	}
	if d := dirtyList(h); len(d) != 0 {
		t.Errorf("clean tree has dirty paths %q", d)
	}

	// MaxCommits caps the walk: only c3 and c2.
	h = loadHeat(t, r.dir, HeatOptions{HalfLife: hl, MaxCommits: 2})
	wantScores(t, h.Scores, map[string]float64{
		"a.go":     w(1, hl),
		"b.go":     w(1, hl),
		"dir/c.go": w(0, hl),
	})

	// The default half-life is DefaultHeatHalfLife.
	h = loadHeat(t, r.dir, HeatOptions{})
	wantScores(t, h.Scores, map[string]float64{
		"a.go":     w(1, DefaultHeatHalfLife) + w(2, DefaultHeatHalfLife) + w(3, DefaultHeatHalfLife),
		"b.go":     w(1, DefaultHeatHalfLife) + w(3, DefaultHeatHalfLife),
		"dir/c.go": w(0, DefaultHeatHalfLife) + w(3, DefaultHeatHalfLife),
	})
}

func TestHeatOrder(t *testing.T) {
	r := newGitRepo(t)
	r.commit("c0", "cold.go", "x", "warm.go", "x", "hot.go", "x", "edited.go", "x", "zz.go", "x", "aa.go", "x")
	r.commit("c1", "warm.go", "y", "hot.go", "y")
	r.commit("c2", "hot.go", "z")
	r.write(".gitignore", "*.log\n")
	r.write("edited.go", "changed in the work tree")
	r.write("new.go", "untracked")
	r.write("debug.log", "ignored")

	h := loadHeat(t, r.dir, HeatOptions{})
	if got, want := dirtyList(h), []string{".gitignore", "edited.go", "new.go"}; !slices.Equal(got, want) {
		t.Errorf("dirty = %q, want %q", got, want)
	}
	in := []string{"new.go", "hot.go", "zz.go", "edited.go", "cold.go", "warm.go", "aa.go", ".gitignore", "unknown.go"}
	orig := slices.Clone(in)
	got := h.Order(in)
	want := []string{
		"unknown.go",                // never changed: 0
		"aa.go", "cold.go", "zz.go", // changed only in c0: tie, by path
		"warm.go", "hot.go", // colder to hotter
		".gitignore", "edited.go", "new.go", // dirty, by path
	}
	if !slices.Equal(got, want) {
		t.Errorf("Order:\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(in, orig) {
		t.Error("Order modified its input")
	}
	var nilHeat *Heat
	if got := nilHeat.Order([]string{"b", "a"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("nil Heat Order = %q", got)
	}
}

func TestHeatIncrementalEqualsFull(t *testing.T) {
	r := newGitRepo(t)
	rng := rand.New(rand.NewPCG(1, 2))
	files := []string{"a.go", "b.go", "c/d.go", "c/e.go", "f/g/h.go", "f/i.go", "j.md"}
	step := func(i int) {
		var args []string
		for _, f := range files {
			if rng.IntN(3) == 0 {
				args = append(args, f, fmt.Sprintf("%s v%d", f, i))
			}
		}
		r.commit(fmt.Sprint("c", i), args...)
	}
	for i := range 12 {
		step(i)
	}
	kv := newMemKV()
	opts := HeatOptions{HalfLife: 3, Cache: kv}
	first := loadHeat(t, r.dir, opts)
	if first.Walked != 12 || first.FromCache || kv.puts != 1 || first.CacheErr != nil {
		t.Fatalf("cold load: Walked %d FromCache %v puts %d err %v", first.Walked, first.FromCache, kv.puts, first.CacheErr)
	}

	for i := 12; i < 17; i++ {
		step(i)
	}
	// A file deleted and one renamed in the new commits.
	r.git("rm", "-q", "j.md")
	r.git("mv", "a.go", "moved.go")
	r.commit("c17")

	inc := loadHeat(t, r.dir, opts)
	if inc.Walked != 6 || !inc.FromCache {
		t.Errorf("incremental load: Walked %d FromCache %v; want 6, true", inc.Walked, inc.FromCache)
	}
	full := loadHeat(t, r.dir, HeatOptions{HalfLife: 3})
	if full.Walked != 18 {
		t.Errorf("full load walked %d commits, want 18", full.Walked)
	}
	wantScores(t, inc.Scores, full.Scores)
	if inc.Head != full.Head {
		t.Errorf("Head %s != %s", inc.Head, full.Head)
	}

	// At HEAD already: nothing walked, nothing written.
	puts := kv.puts
	again := loadHeat(t, r.dir, opts)
	if again.Walked != 0 || !again.FromCache || kv.puts != puts {
		t.Errorf("warm load: Walked %d FromCache %v puts %d->%d", again.Walked, again.FromCache, puts, kv.puts)
	}
	wantScores(t, again.Scores, full.Scores)
}

func TestHeatRewrittenHistoryFallsBack(t *testing.T) {
	r := newGitRepo(t)
	r.commit("c0", "a.go", "0", "b.go", "0")
	r.commit("c1", "a.go", "1")
	r.commit("c2", "b.go", "2")
	r.commit("c3", "a.go", "3")
	kv := newMemKV()
	opts := HeatOptions{HalfLife: 2, Cache: kv}
	loadHeat(t, r.dir, opts)

	check := func(name string, wantWalked int) {
		t.Helper()
		got := loadHeat(t, r.dir, opts)
		full := loadHeat(t, r.dir, HeatOptions{HalfLife: 2})
		if got.FromCache || got.Walked != wantWalked {
			t.Errorf("%s: Walked %d FromCache %v; want a full walk of %d", name, got.Walked, got.FromCache, wantWalked)
		}
		wantScores(t, got.Scores, full.Scores)
	}

	// Amend the last commit: the cached commit is no longer on the chain.
	r.write("b.go", "amended")
	r.git("add", "-A")
	r.git("commit", "-q", "--amend", "-m", "c3'")
	check("amend", 4)

	// Move HEAD back to an ancestor: the cached commit is a descendant.
	r.git("reset", "-q", "--hard", "HEAD~2")
	check("reset to ancestor", 2)

	// Another branch that forked at c0.
	r.git("checkout", "-q", "-b", "other", "HEAD~1")
	r.commit("o1", "c.go", "o")
	check("branch switch", 2)

	// A cached commit further back than MaxCommits is not looked for.
	for i := range 3 {
		r.commit(fmt.Sprint("o", i+2), "c.go", fmt.Sprint(i))
	}
	small := HeatOptions{HalfLife: 2, Cache: kv, MaxCommits: 3}
	got := loadHeat(t, r.dir, small)
	if got.FromCache || got.Walked != 3 {
		t.Errorf("beyond MaxCommits: Walked %d FromCache %v; want 3, false", got.Walked, got.FromCache)
	}
}

func TestHeatCacheRoundTrip(t *testing.T) {
	e := &heatEntry{
		head:     plumbing.NewHash("0123456789abcdef0123456789abcdef01234567"),
		halfLife: 64,
		scores:   map[string]float64{"a.go": 1.5, "dir/ü.go": math.SmallestNonzeroFloat64, "z": 0.1 + 0.2},
	}
	b := e.encode()
	if !slices.Equal(b, e.encode()) {
		t.Error("encoding is not deterministic")
	}
	d, err := decodeHeat(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.head != e.head || d.halfLife != e.halfLife || len(d.scores) != len(e.scores) {
		t.Fatalf("decoded %+v, want %+v", d, e)
	}
	for p, v := range e.scores {
		if d.scores[p] != v {
			t.Errorf("score[%s] = %v, want %v exactly", p, d.scores[p], v)
		}
	}
	for i := range len(b) {
		if _, err := decodeHeat(b[:i]); err == nil {
			t.Errorf("truncated entry (%d of %d bytes) decoded", i, len(b))
		}
	}
	if _, err := decodeHeat(append(slices.Clone(b), 0)); err == nil {
		t.Error("entry with trailing bytes decoded")
	}

	// Through LoadHeat: the stored entry is the state at HEAD.
	r := newGitRepo(t)
	r.commit("c0", "a.go", "0", "b.go", "0")
	head := r.commit("c1", "a.go", "1")
	kv := newMemKV()
	h := loadHeat(t, r.dir, HeatOptions{HalfLife: 5, Cache: kv})
	if len(kv.m) != 1 {
		t.Fatalf("cache has %d entries, want 1", len(kv.m))
	}
	for key, val := range kv.m {
		if !strings.HasPrefix(key, "heat/v1/") {
			t.Errorf("key %q lacks heat/v1/", key)
		}
		got, err := decodeHeat(val)
		if err != nil {
			t.Fatal(err)
		}
		if got.head.String() != head || got.halfLife != 5 {
			t.Errorf("cached head %s half-life %d, want %s 5", got.head, got.halfLife, head)
		}
		wantScores(t, got.scores, h.Scores)
		kv.m[key] = val[:len(val)-3] // corrupt it
	}

	// A corrupt entry is reported and replaced; the scores are still right.
	h2 := loadHeat(t, r.dir, HeatOptions{HalfLife: 5, Cache: kv})
	if h2.CacheErr == nil || h2.FromCache || h2.Walked != 2 {
		t.Errorf("corrupt entry: CacheErr %v FromCache %v Walked %d", h2.CacheErr, h2.FromCache, h2.Walked)
	}
	wantScores(t, h2.Scores, h.Scores)
	if h3 := loadHeat(t, r.dir, HeatOptions{HalfLife: 5, Cache: kv}); !h3.FromCache || h3.CacheErr != nil {
		t.Errorf("after rewrite: FromCache %v CacheErr %v", h3.FromCache, h3.CacheErr)
	}

	// Another half-life does not use the entry.
	if h4 := loadHeat(t, r.dir, HeatOptions{HalfLife: 7, Cache: kv}); h4.FromCache || h4.Walked != 2 {
		t.Errorf("other half-life: FromCache %v Walked %d", h4.FromCache, h4.Walked)
	}

	// A failing store is not fatal.
	kv.failGet = errors.New("disk on fire")
	h5 := loadHeat(t, r.dir, HeatOptions{HalfLife: 5, Cache: kv})
	if h5.CacheErr == nil || h5.FromCache {
		t.Errorf("failing Get: CacheErr %v FromCache %v", h5.CacheErr, h5.FromCache)
	}
	wantScores(t, h5.Scores, h.Scores)
}

func TestHeatEmptyRepo(t *testing.T) {
	r := newGitRepo(t)
	r.write("a.go", "a")
	r.write("sub/b.go", "b")
	r.git("add", "a.go")
	h := loadHeat(t, r.dir, HeatOptions{Cache: newMemKV()})
	if h.Head != "" || len(h.Scores) != 0 {
		t.Errorf("Head %q, %d scores; want none", h.Head, len(h.Scores))
	}
	if got, want := dirtyList(h), []string{"a.go", "sub/b.go"}; !slices.Equal(got, want) {
		t.Errorf("dirty = %q, want %q", got, want)
	}
}

func TestHeatNotGit(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	dir := t.TempDir()
	ingesttest.Write(t, dir, "a.go", "a")
	h, err := LoadHeat(context.Background(), dir, HeatOptions{Cache: newMemKV()})
	if err != nil {
		t.Fatal(err)
	}
	if h.Head != "" || len(h.Scores) != 0 || len(h.Dirty) != 0 || h.Scores == nil || h.Dirty == nil {
		t.Errorf("non-git dir: %+v", h)
	}
	if got := h.Order([]string{"b", "a"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Order = %q", got)
	}
	if _, err := LoadHeat(context.Background(), filepath.Join(dir, "missing"), HeatOptions{}); err == nil {
		t.Error("LoadHeat of a missing folder succeeded")
	}
}

// gitDiffTree is git's own answer for ChangedFiles: the paths commit c
// changed relative to its first parent, without rename detection.
func gitDiffTree(t testing.TB, dir string, c string) []string {
	t.Helper()
	var tick int
	out := runGit(t, dir, &tick, "-c", "core.quotePath=false", "diff-tree", "-r", "--root", "--no-renames", "--name-only", "--no-commit-id", "-m", "--first-parent", c)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestChangedFilesRenamesDeletions(t *testing.T) {
	r := newGitRepo(t)
	r.commit("c0", "a.go", "a", "dir/x.go", "x", "dir/sub/y.go", "y", "kind", "a file", "gone.go", "g", "same.go", "s")
	r.git("mv", "a.go", "renamed.go")
	r.git("rm", "-q", "gone.go")
	r.commit("c1")
	r.git("mv", "dir", "folder")
	r.commit("c2")
	r.git("rm", "-q", "kind")
	r.commit("c3", "kind/inner.go", "now a folder")
	if err := os.Chmod(filepath.Join(r.dir, "same.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.commit("c4")
	r.commit("c5 empty")

	repo, closeRepo, err := scan.OpenRepo(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRepo()
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := FirstParentChain(repo, head.Hash(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 6 {
		t.Fatalf("chain has %d commits, want 6", len(chain))
	}
	want := [][]string{
		nil,                       // c5: empty
		{"same.go"},               // c4: mode change
		{"kind", "kind/inner.go"}, // c3: file replaced by a folder
		{"dir/sub/y.go", "dir/x.go", "folder/sub/y.go", "folder/x.go"},     // c2: folder renamed
		{"a.go", "gone.go", "renamed.go"},                                  // c1: rename + delete
		{"a.go", "dir/sub/y.go", "dir/x.go", "gone.go", "kind", "same.go"}, // c0: root commit
	}
	for i, c := range chain {
		got, err := ChangedFiles(repo, c)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("commit %d (%s): ChangedFiles = %q, want %q", i, strings.TrimSpace(c.Message), got, want[i])
		}
		if g := gitDiffTree(t, r.dir, c.Hash.String()); !slices.Equal(got, g) {
			t.Errorf("commit %d: ChangedFiles = %q, git diff-tree = %q", i, got, g)
		}
	}
	if c, err := FirstParentChain(repo, head.Hash(), 2); err != nil || len(c) != 2 || c[0].Hash != head.Hash() {
		t.Errorf("FirstParentChain(n=2) = %d commits, %v", len(c), err)
	}
	if c, err := FirstParentChain(repo, head.Hash(), 0); err != nil || len(c) != 0 {
		t.Errorf("FirstParentChain(n=0) = %d commits, %v", len(c), err)
	}
}

func TestHeatMergeFirstParent(t *testing.T) {
	r := newGitRepo(t)
	c0 := r.commit("c0", "a.go", "0", "b.go", "0", "c.go", "0")
	r.git("checkout", "-q", "-b", "feature")
	r.commit("f1", "b.go", "f1")
	r.commit("f2", "c.go", "f2")
	r.commit("f3", "c.go", "f3")
	r.git("checkout", "-q", "main")
	c1 := r.commit("c1", "a.go", "1")
	r.git("merge", "-q", "--no-ff", "-m", "merge", "feature")
	m := r.git("rev-parse", "HEAD")

	repo, closeRepo, err := scan.OpenRepo(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRepo()
	chain, err := FirstParentChain(repo, plumbing.NewHash(m), 10)
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, c := range chain {
		hashes = append(hashes, c.Hash.String())
	}
	if want := []string{m, c1, c0}; !slices.Equal(hashes, want) {
		t.Errorf("chain = %q, want %q", hashes, want)
	}
	files, err := ChangedFiles(repo, chain[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b.go", "c.go"}; !slices.Equal(files, want) {
		t.Errorf("merge ChangedFiles = %q, want %q", files, want)
	}

	const hl = 4
	h := loadHeat(t, r.dir, HeatOptions{HalfLife: hl})
	// k: merge=0 (b, c: the branch counts once), c1=1 (a), c0=2 (a, b, c)
	wantScores(t, h.Scores, map[string]float64{
		"a.go": w(1, hl) + w(2, hl),
		"b.go": w(0, hl) + w(2, hl),
		"c.go": w(0, hl) + w(2, hl),
	})

	// Incremental across a merge equals a full walk.
	kv := newMemKV()
	loadHeat(t, r.dir, HeatOptions{HalfLife: hl, Cache: kv})
	r.git("checkout", "-q", "feature")
	r.commit("f4", "b.go", "f4")
	r.git("checkout", "-q", "main")
	r.git("merge", "-q", "--no-ff", "-m", "merge 2", "feature")
	inc := loadHeat(t, r.dir, HeatOptions{HalfLife: hl, Cache: kv})
	if !inc.FromCache || inc.Walked != 1 {
		t.Errorf("incremental: FromCache %v Walked %d; want true, 1", inc.FromCache, inc.Walked)
	}
	wantScores(t, inc.Scores, loadHeat(t, r.dir, HeatOptions{HalfLife: hl}).Scores)
}

func TestHeatDirty(t *testing.T) {
	r := newGitRepo(t)
	r.commit("c0",
		".gitignore", "*.log\nbuild/\n",
		"same.go", "same", "touched.go", "same", "edited.go", "12345", "resized.go", "1",
		"deleted.go", "d", "unstaged-rm.go", "u", "staged.go", "s", "exec.sh", "x", "sub/deep.go", "d")
	past := time.Now().Add(-time.Hour)
	// Same content, new mtime: stat differs, the hash decides: clean.
	if err := os.Chtimes(filepath.Join(r.dir, "touched.go"), past, past); err != nil {
		t.Fatal(err)
	}
	// Same size, other content, older mtime: the hash decides.
	r.write("edited.go", "54321")
	if err := os.Chtimes(filepath.Join(r.dir, "edited.go"), past, past); err != nil {
		t.Fatal(err)
	}
	r.write("resized.go", "12")
	r.git("rm", "-q", "deleted.go")
	if err := os.Remove(filepath.Join(r.dir, "unstaged-rm.go")); err != nil {
		t.Fatal(err)
	}
	r.write("staged.go", "staged change")
	r.git("add", "staged.go")
	if err := os.Chmod(filepath.Join(r.dir, "exec.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.write("untracked.go", "u")
	r.write("sub/new/n.go", "n")
	r.write("x.log", "ignored")
	r.write("build/out.go", "ignored")

	h := loadHeat(t, r.dir, HeatOptions{})
	want := []string{"deleted.go", "edited.go", "exec.sh", "resized.go", "staged.go", "sub/new/n.go", "unstaged-rm.go", "untracked.go"}
	if got := dirtyList(h); !slices.Equal(got, want) {
		t.Errorf("dirty:\n got %q\nwant %q", got, want)
	}
	// git agrees.
	out := r.git("-c", "core.quotePath=false", "status", "--porcelain", "--untracked-files=all")
	var gitDirty []string
	for _, line := range strings.Split(out, "\n") {
		gitDirty = append(gitDirty, line[3:])
	}
	sort.Strings(gitDirty)
	if !slices.Equal(gitDirty, want) {
		t.Errorf("git status dirty = %q, want %q", gitDirty, want)
	}
}

func TestHeatDirtyStat(t *testing.T) {
	r := newGitRepo(t)
	r.commit("c0", "racy.go", "aaaa", "exec.sh", "x")
	repo, closeRepo, err := scan.OpenRepo(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := repo.Storer.Index()
	closeRepo()
	if err != nil {
		t.Fatal(err)
	}
	var at time.Time
	for _, e := range idx.Entries {
		if e.Name == "racy.go" {
			at = e.ModifiedAt
		}
	}
	// Same size and the very mtime the index holds, but the index file is
	// no newer than that: git's racy case, so the content is hashed.
	r.write("racy.go", "bbbb")
	for _, p := range []string{"racy.go", ".git/index"} {
		if err := os.Chtimes(filepath.Join(r.dir, p), at, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(r.dir, "exec.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := dirtyList(loadHeat(t, r.dir, HeatOptions{})); !slices.Equal(got, []string{"exec.sh", "racy.go"}) {
		t.Errorf("dirty = %q, want exec.sh and racy.go", got)
	}
	// core.fileMode = false: the executable bit is not a change.
	r.git("config", "core.fileMode", "false")
	if got := dirtyList(loadHeat(t, r.dir, HeatOptions{})); !slices.Equal(got, []string{"racy.go"}) {
		t.Errorf("dirty with core.fileMode=false = %q, want racy.go", got)
	}
}

func TestHeatLinkedWorktreeAndShallow(t *testing.T) {
	r := newGitRepo(t)
	for i := range 6 {
		r.commit(fmt.Sprint("c", i), "a.go", fmt.Sprint(i), fmt.Sprintf("f%d.go", i%3), fmt.Sprint(i))
	}
	want := loadHeat(t, r.dir, HeatOptions{HalfLife: 3})

	wt := filepath.Join(t.TempDir(), "wt")
	r.git("worktree", "add", "-q", "--detach", wt, "HEAD")
	got := loadHeat(t, wt, HeatOptions{HalfLife: 3})
	if got.Head != want.Head {
		t.Errorf("linked worktree Head %s, want %s", got.Head, want.Head)
	}
	wantScores(t, got.Scores, want.Scores)
	if d := dirtyList(got); len(d) != 0 {
		t.Errorf("fresh linked worktree dirty: %q", d)
	}

	// A shallow clone of depth 3: the boundary commit counts nothing.
	sh := filepath.Join(t.TempDir(), "shallow")
	r.git("clone", "-q", "--depth", "3", "file://"+r.dir, sh)
	hs := loadHeat(t, sh, HeatOptions{HalfLife: 3})
	if hs.Head != want.Head || hs.Walked != 3 {
		t.Errorf("shallow: Head %s Walked %d", hs.Head, hs.Walked)
	}
	// c5 (k=0): a, f2; c4 (k=1): a, f1; c3 is the boundary.
	wantScores(t, hs.Scores, map[string]float64{
		"a.go":  w(0, 3) + w(1, 3),
		"f2.go": w(0, 3),
		"f1.go": w(1, 3),
	})
}

// TestChangedFilesMatchesDiffTree compares ChangedFiles with go-git's
// DiffTree on a random history, and with git diff-tree where git is
// installed. LORE_HEAT_REPO names a real repository to check instead (its
// first 500 first-parent commits).
func TestChangedFilesMatchesDiffTree(t *testing.T) {
	dir := os.Getenv("LORE_HEAT_REPO")
	limit := 500
	if dir == "" {
		dir = synthHistory(t, 60, 40, 3)
	}
	repo, closeRepo, err := scan.OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRepo()
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := FirstParentChain(repo, head.Hash(), limit)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chain {
		got, err := ChangedFiles(repo, c)
		if err != nil {
			t.Fatal(err)
		}
		want, err := diffTreeNames(repo, c)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: ChangedFiles = %q, DiffTree = %q", c.Hash, got, want)
		}
	}
}

// diffTreeNames is ChangedFiles done with go-git's DiffTree, for comparison.
func diffTreeNames(repo *git.Repository, c *object.Commit) ([]string, error) {
	to, err := c.Tree()
	if err != nil {
		return nil, err
	}
	from := &object.Tree{}
	if len(c.ParentHashes) > 0 {
		p, err := repo.CommitObject(c.ParentHashes[0])
		if err != nil {
			return nil, err
		}
		if from, err = p.Tree(); err != nil {
			return nil, err
		}
	}
	changes, err := object.DiffTreeWithOptions(context.Background(), from, to, nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ch := range changes {
		if ch.From.Name != "" {
			out = append(out, ch.From.Name)
		}
		if ch.To.Name != "" && ch.To.Name != ch.From.Name {
			out = append(out, ch.To.Name)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// synthHistory builds a repository with n first-parent commits over a tree
// of about files paths in nested folders, each commit changing up to
// perCommit files (sometimes deleting or adding one), with git fast-import.
// Every tenth commit merges a side commit. It returns the work tree root,
// checked out at HEAD.
func synthHistory(t testing.TB, n, files, perCommit int) string {
	t.Helper()
	needGit(t)
	dir := t.TempDir()
	var tick int
	runGit(t, dir, &tick, "init", "-q", "-b", "main")
	rng := rand.New(rand.NewPCG(uint64(n), uint64(files)))
	var paths []string
	for i := range files {
		paths = append(paths, fmt.Sprintf("d%d/s%d/f%d.go", i%7, i%5, i))
	}
	var b strings.Builder
	mark := 0
	blob := func(content string) int {
		mark++
		fmt.Fprintf(&b, "blob\nmark :%d\ndata %d\n%s\n", mark, len(content), content)
		return mark
	}
	commitAt := func(ref string, i int, from int, merge int, ops func()) int {
		mark++
		m := mark
		fmt.Fprintf(&b, "commit %s\nmark :%d\ncommitter t <t@example.com> %d +0000\ndata 3\nc%d\n", ref, m, 1700000000+i, i%10)
		if from > 0 {
			fmt.Fprintf(&b, "from :%d\n", from)
		}
		if merge > 0 {
			fmt.Fprintf(&b, "merge :%d\n", merge)
		}
		ops()
		b.WriteString("\n")
		return m
	}
	var last int
	live := map[string]bool{}
	for i := range n {
		type op struct {
			path string
			mark int
		}
		var ops []op
		var dels []string
		k := 1 + rng.IntN(perCommit)
		if i == 0 {
			k = files / 2
		}
		for range k {
			p := paths[rng.IntN(len(paths))]
			if live[p] && rng.IntN(10) == 0 {
				dels = append(dels, p)
				delete(live, p)
				continue
			}
			live[p] = true
			ops = append(ops, op{p, blob(fmt.Sprintf("package x // %s %d %d\n", p, i, rng.Int()))})
		}
		write := func() {
			for _, o := range ops {
				fmt.Fprintf(&b, "M 100644 :%d %s\n", o.mark, o.path)
			}
			for _, d := range dels {
				fmt.Fprintf(&b, "D %s\n", d)
			}
		}
		if i > 0 && i%10 == 0 {
			// A side commit on the previous one, merged now.
			sideBlob := blob(fmt.Sprintf("side %d\n", i))
			p := paths[rng.IntN(len(paths))]
			side := commitAt("refs/heads/side", i, last, 0, func() { fmt.Fprintf(&b, "M 100644 :%d %s\n", sideBlob, p) })
			live[p] = true
			last = commitAt("refs/heads/main", i, last, side, func() {
				fmt.Fprintf(&b, "M 100644 :%d %s\n", sideBlob, p)
				write()
			})
			continue
		}
		last = commitAt("refs/heads/main", i, last, 0, write)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(b.String())
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	runGit(t, dir, &tick, "checkout", "-q", "-f", "main")
	return dir
}

// BenchmarkLoadHeat measures LoadHeat on a real history (LORE_HEAT_REPO, a
// work tree) or else on a synthetic one of 2000 commits: cold (no cache),
// warm (cache at HEAD) and incremental (cache 10 commits behind HEAD).
func BenchmarkLoadHeat(b *testing.B) {
	dir := os.Getenv("LORE_HEAT_REPO")
	if dir == "" {
		dir = synthHistory(b, 2000, 2000, 6)
	}
	ctx := context.Background()
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			if _, err := LoadHeat(ctx, dir, HeatOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	kv := newMemKV()
	h, err := LoadHeat(ctx, dir, HeatOptions{Cache: kv})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d commits walked, %d paths scored, %d dirty, cache entry %d bytes", h.Walked, len(h.Scores), len(h.Dirty), len(kv.m[firstKey(kv)]))
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			h, err := LoadHeat(ctx, dir, HeatOptions{Cache: kv})
			if err != nil || !h.FromCache || h.Walked != 0 {
				b.Fatal(err, h.FromCache, h.Walked)
			}
		}
	})
	// The cache entry as it would be 10 commits back.
	repo, closeRepo, err := scan.OpenRepo(dir)
	if err != nil {
		b.Fatal(err)
	}
	head, err := repo.Head()
	if err != nil {
		b.Fatal(err)
	}
	chain, err := FirstParentChain(repo, head.Hash(), 11)
	closeRepo()
	if err != nil || len(chain) < 11 {
		b.Skip("history too short for the incremental case")
	}
	back := newMemKV()
	if err := scoreAt(ctx, dir, chain[10].Hash, back); err != nil {
		b.Fatal(err)
	}
	b.Run("incremental10", func(b *testing.B) {
		for b.Loop() {
			kv := &memKV{m: maps.Clone(back.m)}
			h, err := LoadHeat(ctx, dir, HeatOptions{Cache: kv})
			if err != nil || !h.FromCache || h.Walked != 10 {
				b.Fatal(err, h.FromCache, h.Walked)
			}
		}
	})
	b.Run("dirty", func(b *testing.B) {
		repo, closeRepo, err := scan.OpenRepo(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer closeRepo()
		c, err := repo.CommitObject(head.Hash())
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := dirtyPaths(ctx, repo, dir, c.TreeHash); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("difftree-names", func(b *testing.B) {
		repo, closeRepo, err := scan.OpenRepo(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer closeRepo()
		chain, err := FirstParentChain(repo, head.Hash(), 200)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			for _, c := range chain {
				if _, err := diffTreeNames(repo, c); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("changedfiles", func(b *testing.B) {
		repo, closeRepo, err := scan.OpenRepo(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer closeRepo()
		chain, err := FirstParentChain(repo, head.Hash(), 200)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			for _, c := range chain {
				if _, err := ChangedFiles(repo, c); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func firstKey(kv *memKV) string {
	for k := range kv.m {
		return k
	}
	return ""
}

// scoreAt stores in kv the heat state as LoadHeat would have left it with
// HEAD at commit at.
func scoreAt(ctx context.Context, dir string, at plumbing.Hash, kv *memKV) error {
	repo, closeRepo, err := scan.OpenRepo(dir)
	if err != nil {
		return err
	}
	defer closeRepo()
	c, err := repo.CommitObject(at)
	if err != nil {
		return err
	}
	abs, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	abs, err = filepath.Abs(abs)
	if err != nil {
		return err
	}
	h := &Heat{}
	return h.score(ctx, repo, c, heatKey(abs), HeatOptions{HalfLife: DefaultHeatHalfLife, MaxCommits: DefaultHeatMaxCommits, Cache: kv})
}
