package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"lore/models/gguf"
	"lore/models/synth"
)

// payload is a fake GGUF file: the magic, then bytes that differ by offset.
func payload(n int) []byte {
	b := make([]byte, n)
	copy(b, gguf.Magic)
	for i := len(gguf.Magic); i < n; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// server serves data at /m.gguf. With cut > 0, the first full (non-Range)
// response stops after cut bytes and drops the connection. ignoreRange
// answers every request with the whole file.
type server struct {
	data        []byte
	cut         int
	ignoreRange bool
	mu          sync.Mutex
	ranges      []string
	cutDone     bool
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/m.gguf" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	rng := r.Header.Get("Range")
	s.ranges = append(s.ranges, rng)
	cut := s.cut > 0 && !s.cutDone
	s.cutDone = s.cutDone || cut
	s.mu.Unlock()
	if rng != "" && !s.ignoreRange {
		start, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rng, "bytes="), "-"))
		if err != nil || start > len(s.data) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(s.data)-1, len(s.data)))
		w.Header().Set("Content-Length", strconv.Itoa(len(s.data)-start))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(s.data[start:])
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
	w.WriteHeader(http.StatusOK)
	if cut {
		w.Write(s.data[:s.cut])
		w.(http.Flusher).Flush()
		// Drop the connection mid-body.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Write(s.data)
}

func newServer(t *testing.T, s *server) string {
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL + "/m.gguf"
}

func TestPullFull(t *testing.T) {
	data := payload(3<<20 + 17)
	url := newServer(t, &server{data: data})
	dir := t.TempDir()
	var last int64
	res, err := Pull(context.Background(), PullOptions{URL: url, Dir: dir, SHA256: digest(data), Progress: func(done, total int64) {
		if total != int64(len(data)) {
			t.Errorf("progress total %d, want %d", total, len(data))
		}
		last = done
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "m.gguf")
	if res.Path != want || res.Size != int64(len(data)) || res.SHA256 != digest(data) || res.Resumed {
		t.Errorf("result %+v", res)
	}
	if last != int64(len(data)) {
		t.Errorf("last progress %d", last)
	}
	got, err := os.ReadFile(want)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file differs (%v)", err)
	}
	if _, err := os.Stat(want + PartialSuffix); !os.IsNotExist(err) {
		t.Errorf("partial left behind: %v", err)
	}
	// A second pull refuses to overwrite.
	if _, err := Pull(context.Background(), PullOptions{URL: url, Dir: dir}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second pull: %v", err)
	}
}

func TestPullResume(t *testing.T) {
	data := payload(2<<20 + 5)
	srv := &server{data: data, cut: 700_000}
	url := newServer(t, srv)
	dir := t.TempDir()
	dest := filepath.Join(dir, "model.gguf")
	_, err := Pull(context.Background(), PullOptions{URL: url, Dest: dest, SHA256: digest(data)})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("interrupted pull: %v", err)
	}
	st, err := os.Stat(dest + PartialSuffix)
	if err != nil || st.Size() == 0 || st.Size() >= int64(len(data)) {
		t.Fatalf("partial after interruption: %v %v", st, err)
	}
	kept := st.Size()
	res, err := Pull(context.Background(), PullOptions{URL: url, Dest: dest, SHA256: digest(data)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.SHA256 != digest(data) {
		t.Errorf("result %+v", res)
	}
	if got := srv.ranges[len(srv.ranges)-1]; got != fmt.Sprintf("bytes=%d-", kept) {
		t.Errorf("resume sent Range %q, want bytes=%d-", got, kept)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, data) {
		t.Error("resumed file differs")
	}
	if _, err := os.Stat(dest + PartialSuffix); !os.IsNotExist(err) {
		t.Errorf("partial left behind: %v", err)
	}
}

func TestPullRetriesInOneCall(t *testing.T) {
	data := payload(1<<20 + 3)
	srv := &server{data: data, cut: 100_000}
	url := newServer(t, srv)
	dest := filepath.Join(t.TempDir(), "x.gguf")
	res, err := Pull(context.Background(), PullOptions{URL: url, Dest: dest, SHA256: digest(data), Retries: 2, RetryDelay: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || len(srv.ranges) != 2 {
		t.Errorf("result %+v, requests %q", res, srv.ranges)
	}
}

func TestPullServerIgnoresRange(t *testing.T) {
	data := payload(1<<20 + 9)
	url := newServer(t, &server{data: data, ignoreRange: true})
	dest := filepath.Join(t.TempDir(), "m.gguf")
	// A stale partial: wrong bytes that must not end up in the file.
	if err := os.WriteFile(dest+PartialSuffix, []byte("GGUFstale-bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Pull(context.Background(), PullOptions{URL: url, Dest: dest, SHA256: digest(data)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed {
		t.Error("a 200 reply must restart, not resume")
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, data) {
		t.Error("file differs")
	}
}

func TestPullBadChecksumLeavesNothing(t *testing.T) {
	data := payload(600_000)
	url := newServer(t, &server{data: data})
	dir := t.TempDir()
	bad := strings.Repeat("0", 64)
	_, err := Pull(context.Background(), PullOptions{URL: url, Dir: dir, SHA256: bad})
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Want != bad || ce.Got != digest(data) {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), digest(data)) {
		t.Errorf("message lacks both hashes: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestPullErrors(t *testing.T) {
	url := newServer(t, &server{data: payload(100)})
	dir := t.TempDir()
	_, err := Pull(context.Background(), PullOptions{URL: strings.Replace(url, "m.gguf", "missing.gguf", 1), Dir: dir})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 404 || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	for _, u := range []string{"ftp://x/y.gguf", "not a url", "http:///y.gguf", "http://host/"} {
		if _, err := Pull(context.Background(), PullOptions{URL: u, Dir: dir}); err == nil {
			t.Errorf("%q: no error", u)
		}
	}
	if _, err := Pull(context.Background(), PullOptions{URL: url, Dir: dir, SHA256: "abc"}); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("bad digest: %v", err)
	}
	// Not a GGUF file: nothing is kept.
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>login</html>"))
	}))
	defer html.Close()
	if _, err := Pull(context.Background(), PullOptions{URL: html.URL + "/p.gguf", Dir: dir}); err == nil || !strings.Contains(err.Error(), "not a GGUF") {
		t.Errorf("html: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestPullCancelKeepsPartial(t *testing.T) {
	data := payload(4 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data[:1<<20])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer ts.Close()
	dest := filepath.Join(t.TempDir(), "m.gguf")
	_, err := Pull(ctx, PullOptions{URL: ts.URL + "/m.gguf", Dest: dest, Retries: 3, Progress: func(done, total int64) {
		if done > 0 {
			cancel() // Ctrl-C once bytes have arrived
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if st, err := os.Stat(dest + PartialSuffix); err != nil || st.Size() == 0 {
		t.Errorf("partial not kept: %v", err)
	}
}

func TestReadHeaderSynth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.WriteFile(path, synth.Tiny, synth.DefaultSeed); err != nil {
		t.Fatal(err)
	}
	info, err := Describe(path)
	if err != nil || info.Err != "" {
		t.Fatalf("%v %s", err, info.Err)
	}
	sp, _ := synth.SpecFor(synth.Tiny)
	if info.Architecture != "llama" || info.Experts != 4 || info.ExpertsUsed != 2 || info.ContextLength != 262144 {
		t.Errorf("info %+v", info)
	}
	if info.Name != sp.Name || info.Layers != sp.Layers || info.Embedding != sp.Embd || info.Heads != sp.Heads || info.HeadsKV != sp.HeadsKV {
		t.Errorf("info %+v, spec %+v", info, sp)
	}
	if info.Params != uint64(sp.Params()) {
		t.Errorf("params %d, want %d", info.Params, sp.Params())
	}
	// 2 × layers × kv heads × head dim × 2 bytes.
	want := int64(2 * sp.Layers * sp.HeadsKV * sp.HeadDim() * 2)
	if info.KVBytesPerToken != want || want != 256 {
		t.Errorf("KV bytes per token %d, want %d", info.KVBytesPerToken, want)
	}
	if got := info.TokensIn(8 << 30); got != (8<<30)/want {
		t.Errorf("TokensIn %d", got)
	}

	list, err := List(filepath.Dir(path))
	if err != nil || len(list) != 1 || list[0].Architecture != "llama" {
		t.Errorf("List: %+v %v", list, err)
	}
	// A truncated header is reported, not fatal.
	b, _ := os.ReadFile(path)
	os.WriteFile(filepath.Join(filepath.Dir(path), "broken.gguf"), b[:200], 0o644)
	list, err = List(filepath.Dir(path))
	if err != nil || len(list) != 2 || list[0].Err == "" || list[1].Err != "" {
		t.Errorf("List with broken file: %+v %v", list, err)
	}
	if _, err := gguf.ReadHeader(strings.NewReader("NOPE")); !errors.Is(err, gguf.ErrNotGGUF) {
		t.Errorf("not GGUF: %v", err)
	}
}

func TestKVBytes(t *testing.T) {
	// Qwen3-30B-A3B: 48 layers, 4 KV heads, 128-wide heads: 96 KiB a token.
	if got := KVBytesPerToken(48, 4, 128, 128); got != 96<<10 {
		t.Errorf("got %d", got)
	}
	h := &gguf.Header{Metadata: map[string]any{
		"general.architecture":             "qwen3moe",
		"qwen3moe.block_count":             uint64(48),
		"qwen3moe.embedding_length":        uint64(2048),
		"qwen3moe.attention.head_count":    uint64(32),
		"qwen3moe.attention.head_count_kv": uint64(4),
		"qwen3moe.attention.key_length":    uint64(128),
		"qwen3moe.attention.value_length":  uint64(128),
	}}
	if got := FromHeader(h).KVBytesPerToken; got != 96<<10 {
		t.Errorf("with key_length: %d", got)
	}
	delete(h.Metadata, "qwen3moe.attention.key_length")
	delete(h.Metadata, "qwen3moe.attention.value_length")
	if got := FromHeader(h).KVBytesPerToken; got != 2*48*4*64*2 {
		t.Errorf("without key_length: %d", got)
	}
	// Per-layer KV heads.
	h.Metadata["qwen3moe.attention.head_count_kv"] = gguf.Array{Type: gguf.TypeUint32, Len: 48, Ints: append(make([]int64, 24), repeat(8, 24)...)}
	if got := FromHeader(h).KVBytesPerToken; got != 2*24*8*64*2 {
		t.Errorf("per-layer heads: %d", got)
	}
}

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
