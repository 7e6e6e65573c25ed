package gguf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestRoundTrip writes a header with every value type the writer knows and
// reads it back.
func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	g := NewWriter(&buf)
	g.Begin(2, []KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.block_count", Value: uint32(3)},
		{Key: "llama.rope.freq_base", Value: float32(10000)},
		{Key: "tokenizer.ggml.add_bos_token", Value: true},
		{Key: "tokenizer.ggml.tokens", Value: []string{"a", "b"}},
		{Key: "tokenizer.ggml.scores", Value: []float32{-1, -2}},
		{Key: "llama.attention.head_count_kv", Value: []int32{4, 8, 2}},
	})
	g.TensorInfo("a", []int{4, 2}, TensorF32, 0)
	g.TensorInfo("b", []int{5}, TensorF32, uint64(AlignUp(4*8)))
	g.Pad()
	g.Write(make([]byte, AlignUp(4*8)+4*5))
	g.Pad()
	if err := g.Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%Alignment != 0 {
		t.Fatalf("file is %d bytes, not padded to %d", buf.Len(), Alignment)
	}
	h, err := ReadHeader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != Version || h.TensorCount != 2 || h.Params != 13 {
		t.Fatalf("header %+v", h)
	}
	if h.String("general.architecture") != "llama" || h.Metadata["tokenizer.ggml.add_bos_token"] != true || h.Metadata["llama.rope.freq_base"] != float64(10000) {
		t.Fatalf("metadata %v", h.Metadata)
	}
	if n, ok := h.Int("llama.block_count"); !ok || n != 3 {
		t.Fatalf("block_count %d %v", n, ok)
	}
	if n, ok := h.Int("llama.attention.head_count_kv"); !ok || n != 8 {
		t.Fatalf("head_count_kv max %d %v", n, ok)
	}
	if a := h.Metadata["tokenizer.ggml.tokens"].(Array); a.Type != TypeString || a.Len != 2 {
		t.Fatalf("tokens %+v", a)
	}
	if a := h.Metadata["tokenizer.ggml.scores"].(Array); a.Type != TypeFloat32 || len(a.Floats) != 2 || a.Floats[1] != -2 {
		t.Fatalf("scores %+v", a)
	}
}

func TestWriterRejectsUnknownType(t *testing.T) {
	g := NewWriter(&bytes.Buffer{})
	g.Begin(0, []KV{{Key: "x", Value: int64(1)}})
	if err := g.Flush(); err == nil || !strings.Contains(err.Error(), "unsupported type int64") {
		t.Fatalf("err %v", err)
	}
}

func TestReadNotGGUF(t *testing.T) {
	if _, err := ReadHeader(strings.NewReader("NOPE")); !errors.Is(err, ErrNotGGUF) {
		t.Fatalf("err %v", err)
	}
}
