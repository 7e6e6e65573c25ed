package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// KV is one metadata key and its value. The writer encodes uint32, int32,
// float32, bool and string, and arrays of int32, float32 and string.
type KV struct {
	Key   string
	Value any
}

// Writer writes a GGUF file in order: Begin, one TensorInfo per tensor, Pad,
// then each tensor's data followed by Pad. It keeps the first error and
// counts the bytes written so that sections can be padded to Alignment.
type Writer struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [8]byte
}

// NewWriter returns a Writer that buffers its output to w; call Flush at the
// end.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 1<<20)}
}

// Err is the first error met while writing.
func (g *Writer) Err() error { return g.err }

// Flush writes the buffered bytes and returns the first error met.
func (g *Writer) Flush() error {
	if g.err != nil {
		return g.err
	}
	return g.w.Flush()
}

// Write writes raw bytes (tensor data); errors are kept for Err.
func (g *Writer) Write(p []byte) {
	if g.err != nil {
		return
	}
	n, err := g.w.Write(p)
	g.n += int64(n)
	g.err = err
}

func (g *Writer) u32(v uint32) {
	binary.LittleEndian.PutUint32(g.buf[:4], v)
	g.Write(g.buf[:4])
}

func (g *Writer) u64(v uint64) {
	binary.LittleEndian.PutUint64(g.buf[:8], v)
	g.Write(g.buf[:8])
}

func (g *Writer) str(s string) {
	g.u64(uint64(len(s)))
	if g.err == nil {
		n, err := g.w.WriteString(s)
		g.n += int64(n)
		g.err = err
	}
}

// Pad writes zeros up to the next multiple of Alignment.
func (g *Writer) Pad() {
	if r := g.n % Alignment; r != 0 {
		var zero [Alignment]byte
		g.Write(zero[:Alignment-r])
	}
}

// Begin writes the file header and the metadata.
func (g *Writer) Begin(tensors int, meta []KV) {
	g.Write([]byte(Magic))
	g.u32(Version)
	g.u64(uint64(tensors))
	g.u64(uint64(len(meta)))
	for _, k := range meta {
		g.kv(k)
	}
}

func (g *Writer) kv(k KV) {
	g.str(k.Key)
	switch v := k.Value.(type) {
	case uint32:
		g.u32(uint32(TypeUint32))
		g.u32(v)
	case float32:
		g.u32(uint32(TypeFloat32))
		g.u32(math.Float32bits(v))
	case bool:
		g.u32(uint32(TypeBool))
		b := byte(0)
		if v {
			b = 1
		}
		g.Write([]byte{b})
	case string:
		g.u32(uint32(TypeString))
		g.str(v)
	case []string:
		g.array(TypeString, len(v))
		for _, s := range v {
			g.str(s)
		}
	case []float32:
		g.array(TypeFloat32, len(v))
		for _, f := range v {
			g.u32(math.Float32bits(f))
		}
	case []int32:
		g.array(TypeInt32, len(v))
		for _, i := range v {
			g.u32(uint32(i))
		}
	default:
		if g.err == nil {
			g.err = fmt.Errorf("gguf: metadata %s: unsupported type %T", k.Key, k.Value)
		}
	}
}

func (g *Writer) array(elem ValueType, n int) {
	g.u32(uint32(TypeArray))
	g.u32(uint32(elem))
	g.u64(uint64(n))
}

// TensorInfo writes one tensor descriptor of ggml type typ; offset is
// relative to the start of the data section.
func (g *Writer) TensorInfo(name string, dims []int, typ uint32, offset uint64) {
	g.str(name)
	g.u32(uint32(len(dims)))
	for _, d := range dims {
		g.u64(uint64(d))
	}
	g.u32(typ)
	g.u64(offset)
}
