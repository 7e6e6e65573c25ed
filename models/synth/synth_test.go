package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"lore/models/gguf"
)

func TestParseSizeAndSpecFor(t *testing.T) {
	for _, s := range Sizes() {
		got, err := ParseSize(" " + strings.ToUpper(string(s)) + " ")
		if err != nil || got != s {
			t.Fatalf("ParseSize(%q) = %q, %v", s, got, err)
		}
		sp, err := SpecFor(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := sp.Validate(); err != nil {
			t.Fatal(err)
		}
		if sp.Name != "lore-synth-"+string(s) || sp.ContextLength != 262144 {
			t.Fatalf("%s: name %q, context %d", s, sp.Name, sp.ContextLength)
		}
		t.Logf("%s: %d parameters, vocabulary %d", s, sp.Params(), sp.VocabSize)
	}
	for _, bad := range []string{"", "huge"} {
		if _, err := ParseSize(bad); err == nil || !strings.Contains(err.Error(), "tiny, demo, bench") {
			t.Fatalf("ParseSize(%q): error %v should name the valid sizes", bad, err)
		}
		if _, err := SpecFor(Size(bad)); err == nil || !strings.Contains(err.Error(), "tiny, demo, bench") {
			t.Fatalf("SpecFor(%q): error %v should name the valid sizes", bad, err)
		}
	}
	sp, _ := SpecFor(Bench)
	if p := sp.Params(); p < 100e6 || p > 115e6 {
		t.Fatalf("bench has %d parameters, want about 100-115M", p)
	}
}

func TestValidateRejects(t *testing.T) {
	good, _ := SpecFor(Tiny)
	for name, mod := range map[string]func(*Spec){
		"heads":      func(s *Spec) { s.Heads = 3 },
		"kv heads":   func(s *Spec) { s.HeadsKV = 3 },
		"experts":    func(s *Spec) { s.ExpertsUsed = 5 },
		"vocab low":  func(s *Spec) { s.VocabSize = 100 },
		"vocab high": func(s *Spec) { s.VocabSize = 1 << 20 },
		"layers":     func(s *Spec) { s.Layers = 0 },
	} {
		s := good
		mod(&s)
		if err := Write(io.Discard, s, 1); err == nil {
			t.Errorf("%s: Write accepted an invalid spec", name)
		}
	}
}

func hashModel(t *testing.T, s Size, seed int64) ([32]byte, int64) {
	t.Helper()
	sp, err := SpecFor(s)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	cw := &countWriter{w: h}
	if err := Write(cw, sp, seed); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, cw.n
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func TestDeterministic(t *testing.T) {
	a, n := hashModel(t, Tiny, DefaultSeed)
	b, _ := hashModel(t, Tiny, DefaultSeed)
	c, _ := hashModel(t, Tiny, DefaultSeed+1)
	if a != b {
		t.Fatal("same seed gave different bytes")
	}
	if a == c {
		t.Fatal("different seeds gave the same bytes")
	}
	sp, _ := SpecFor(Tiny)
	t.Logf("tiny: %d bytes, %d parameters", n, sp.Params())
	if n < 1<<20 || n > 2<<20 {
		t.Fatalf("tiny is %d bytes, want about 1-2 MB", n)
	}
}

// TestLayout parses the tiny file back: header, metadata keys and their
// types, tensor descriptors, alignment, and the size of the data section.
func TestLayout(t *testing.T) {
	sp, _ := SpecFor(Tiny)
	var buf bytes.Buffer
	if err := Write(&buf, sp, DefaultSeed); err != nil {
		t.Fatal(err)
	}
	f, err := parseGGUF(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	wantU32 := map[string]uint32{
		"general.alignment":             32,
		"general.file_type":             0,
		"llama.context_length":          262144,
		"llama.embedding_length":        64,
		"llama.block_count":             2,
		"llama.feed_forward_length":     128,
		"llama.attention.head_count":    4,
		"llama.attention.head_count_kv": 2,
		"llama.rope.dimension_count":    16,
		"llama.expert_count":            4,
		"llama.expert_used_count":       2,
		"llama.vocab_size":              1000,
		"tokenizer.ggml.bos_token_id":   1,
		"tokenizer.ggml.eos_token_id":   2,
	}
	for k, want := range wantU32 {
		if got, ok := f.meta[k].(uint32); !ok || got != want {
			t.Errorf("%s = %v (%T), want uint32 %d", k, f.meta[k], f.meta[k], want)
		}
	}
	if f.meta["general.architecture"] != "llama" || f.meta["general.name"] != "lore-synth-tiny" || f.meta["tokenizer.ggml.model"] != "llama" {
		t.Errorf("architecture/name/tokenizer: %v %v %v", f.meta["general.architecture"], f.meta["general.name"], f.meta["tokenizer.ggml.model"])
	}
	if f.meta["tokenizer.ggml.add_space_prefix"] != false || f.meta["tokenizer.ggml.add_bos_token"] != true {
		t.Errorf("add_space_prefix %v, add_bos_token %v", f.meta["tokenizer.ggml.add_space_prefix"], f.meta["tokenizer.ggml.add_bos_token"])
	}
	toks := f.meta["tokenizer.ggml.tokens"].([]string)
	types := f.meta["tokenizer.ggml.token_type"].([]int32)
	if len(toks) != 1000 || len(types) != 1000 || len(f.meta["tokenizer.ggml.scores"].([]float32)) != 1000 {
		t.Fatalf("vocabulary arrays have %d tokens, want 1000", len(toks))
	}
	if toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" || toks[3] != "<0x00>" || toks[258] != "<0xFF>" || types[3] != 6 || types[258] != 6 || types[259] != 1 {
		t.Fatalf("unexpected special tokens: %q %q %q %q %q", toks[0], toks[1], toks[2], toks[3], toks[258])
	}
	seen := map[string]bool{}
	for i, tok := range toks {
		if seen[tok] || !utf8.ValidString(tok) || (i >= firstNormal && len(tok) < 2) || strings.Contains(tok, " ") {
			t.Fatalf("bad token %d %q", i, tok)
		}
		seen[tok] = true
	}
	ts := sp.tensors()
	if len(f.tensors) != len(ts) || len(ts) != 3+10*sp.Layers {
		t.Fatalf("%d tensors, want %d", len(f.tensors), len(ts))
	}
	if f.dataStart%32 != 0 {
		t.Fatalf("data section starts at %d", f.dataStart)
	}
	var end uint64
	for i, ti := range f.tensors {
		if ti.name != ts[i].name || ti.offset%32 != 0 || ti.typ != 0 {
			t.Fatalf("tensor %d: %+v", i, ti)
		}
		end = ti.offset + 4*uint64(ts[i].elems())
	}
	if got := uint64(buf.Len()) - f.dataStart; got != (end+31)/32*32 {
		t.Fatalf("data section is %d bytes, want %d", got, end)
	}
	// The first norm weight is all ones.
	for i, ti := range f.tensors {
		if ti.name == "blk.0.attn_norm.weight" {
			b := buf.Bytes()[f.dataStart+ti.offset:]
			for j := 0; j < ts[i].dims[0]; j++ {
				if v := binary.LittleEndian.Uint32(b[4*j:]); v != 0x3f800000 {
					t.Fatalf("norm weight %d is %#x", j, v)
				}
			}
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "tiny.gguf")
	if err := WriteFile(path, Tiny, DefaultSeed); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hashModel(t, Tiny, DefaultSeed)
	if sha256.Sum256(data) != want {
		t.Fatal("WriteFile and Write differ")
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
	if err := WriteFile(path, Size("huge"), 1); err == nil {
		t.Fatal("unknown size accepted")
	}
}

func TestVocabBlocksSpecials(t *testing.T) {
	v, err := buildVocab(32000)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]bool{}
	for _, tok := range v.tokens[firstNormal:] {
		in[tok] = true
	}
	// reachable reports whether the SPM merges can build s from single
	// characters through vocabulary tokens.
	var reachable func(s string) bool
	reachable = func(s string) bool {
		if utf8.RuneCountInString(s) == 1 {
			return true
		}
		if !in[s] {
			return false
		}
		for k := 1; k < len(s); k++ {
			if utf8.ValidString(s[:k]) && reachable(s[:k]) && reachable(s[k:]) {
				return true
			}
		}
		return false
	}
	for _, s := range specialTexts() {
		for k := 1; k < len(s.text); k++ {
			if reachable(s.text[:k]) && reachable(s.text[k:]) {
				t.Errorf("special %q is reachable as %q+%q", s.text, s.text[:k], s.text[k:])
			}
		}
	}
	for _, want := range []string{"▁", "▁func", "▁return", "err", "\n\n", "\t\t"} {
		if !in[want] {
			t.Errorf("vocabulary lacks %q", want)
		}
	}
}

// parsed is the header of a GGUF file, decoded apart from package gguf's
// reader so that the writer is checked against an independent reading.
type parsed struct {
	meta      map[string]any
	tensors   []tensorDesc
	dataStart uint64
}

type tensorDesc struct {
	name   string
	dims   []uint64
	typ    uint32
	offset uint64
}

func parseGGUF(b []byte) (*parsed, error) {
	r := &reader{b: b}
	if string(r.next(4)) != "GGUF" || r.u32() != 3 {
		return nil, io.ErrUnexpectedEOF
	}
	nt, nkv := r.u64(), r.u64()
	f := &parsed{meta: map[string]any{}}
	for i := uint64(0); i < nkv; i++ {
		k := r.str()
		f.meta[k] = r.value(gguf.ValueType(r.u32()))
	}
	for i := uint64(0); i < nt; i++ {
		d := tensorDesc{name: r.str()}
		nd := r.u32()
		for j := uint32(0); j < nd; j++ {
			d.dims = append(d.dims, r.u64())
		}
		d.typ = r.u32()
		d.offset = r.u64()
		f.tensors = append(f.tensors, d)
	}
	if r.err != nil {
		return nil, r.err
	}
	f.dataStart = uint64(r.off+31) / 32 * 32
	return f, nil
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) next(n int) []byte {
	if r.err != nil || r.off+n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return make([]byte, n)
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.next(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.next(8)) }
func (r *reader) str() string { return string(r.next(int(r.u64()))) }

func (r *reader) value(typ gguf.ValueType) any {
	switch typ {
	case gguf.TypeUint32:
		return r.u32()
	case gguf.TypeInt32:
		return int32(r.u32())
	case gguf.TypeFloat32:
		return math.Float32frombits(r.u32())
	case gguf.TypeBool:
		return r.next(1)[0] != 0
	case gguf.TypeString:
		return r.str()
	case gguf.TypeArray:
		et, n := gguf.ValueType(r.u32()), r.u64()
		switch et {
		case gguf.TypeString:
			a := make([]string, n)
			for i := range a {
				a[i] = r.str()
			}
			return a
		case gguf.TypeFloat32:
			a := make([]float32, n)
			for i := range a {
				a[i] = math.Float32frombits(r.u32())
			}
			return a
		case gguf.TypeInt32:
			a := make([]int32, n)
			for i := range a {
				a[i] = int32(r.u32())
			}
			return a
		}
	}
	r.err = io.ErrUnexpectedEOF
	return nil
}
