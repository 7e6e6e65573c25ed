package synth

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
)

// GGUF v3 value types.
const (
	ggufUint32  uint32 = 4
	ggufInt32   uint32 = 5
	ggufFloat32 uint32 = 6
	ggufBool    uint32 = 7
	ggufString  uint32 = 8
	ggufArray   uint32 = 9
)

const (
	ggufMagic     = "GGUF"
	ggufVersion   = 3
	ggufAlignment = 32
	ggmlTypeF32   = 0
)

// kv is one metadata key and its value: uint32, int32 ([]int32), float32
// ([]float32), bool, string ([]string).
type kv struct {
	key string
	val any
}

// ggufWriter writes little-endian GGUF values, keeps the first error and
// counts the bytes written so that sections can be padded to the alignment.
type ggufWriter struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [8]byte
}

func (g *ggufWriter) write(p []byte) {
	if g.err != nil {
		return
	}
	n, err := g.w.Write(p)
	g.n += int64(n)
	g.err = err
}

func (g *ggufWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(g.buf[:4], v)
	g.write(g.buf[:4])
}

func (g *ggufWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(g.buf[:8], v)
	g.write(g.buf[:8])
}

func (g *ggufWriter) str(s string) {
	g.u64(uint64(len(s)))
	if g.err == nil {
		n, err := g.w.WriteString(s)
		g.n += int64(n)
		g.err = err
	}
}

func (g *ggufWriter) pad() {
	if r := g.n % ggufAlignment; r != 0 {
		var zero [ggufAlignment]byte
		g.write(zero[:ggufAlignment-r])
	}
}

func (g *ggufWriter) kv(k kv) {
	g.str(k.key)
	switch v := k.val.(type) {
	case uint32:
		g.u32(ggufUint32)
		g.u32(v)
	case float32:
		g.u32(ggufFloat32)
		g.u32(math.Float32bits(v))
	case bool:
		g.u32(ggufBool)
		b := byte(0)
		if v {
			b = 1
		}
		g.write([]byte{b})
	case string:
		g.u32(ggufString)
		g.str(v)
	case []string:
		g.u32(ggufArray)
		g.u32(ggufString)
		g.u64(uint64(len(v)))
		for _, s := range v {
			g.str(s)
		}
	case []float32:
		g.u32(ggufArray)
		g.u32(ggufFloat32)
		g.u64(uint64(len(v)))
		for _, f := range v {
			g.u32(math.Float32bits(f))
		}
	case []int32:
		g.u32(ggufArray)
		g.u32(ggufInt32)
		g.u64(uint64(len(v)))
		for _, i := range v {
			g.u32(uint32(i))
		}
	default:
		if g.err == nil {
			g.err = fmt.Errorf("synth: metadata %s: unsupported type %T", k.key, k.val)
		}
	}
}

// tensorInfo writes one tensor descriptor; offset is relative to the start of
// the data section.
func (g *ggufWriter) tensorInfo(t tensor, offset uint64) {
	g.str(t.name)
	g.u32(uint32(len(t.dims)))
	for _, d := range t.dims {
		g.u64(uint64(d))
	}
	g.u32(ggmlTypeF32)
	g.u64(offset)
}

func alignUp(n int64) int64 {
	return (n + ggufAlignment - 1) / ggufAlignment * ggufAlignment
}
