package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Limits that keep a corrupt header from making the reader allocate or loop
// without bound.
const (
	maxKVs        = 1 << 20
	maxTensors    = 1 << 24
	maxDims       = 8
	maxKeyLen     = 1 << 16
	maxKeptString = 1 << 20 // longer string values are skipped, not kept
	maxKeptArray  = 1 << 16 // numeric arrays up to this length are kept
)

// Array describes a metadata array. Numeric arrays of up to 65,536 elements
// keep their values (as int64 or float64); others only their type and length.
type Array struct {
	Type   ValueType // the element type
	Len    uint64
	Ints   []int64   // integer and bool elements
	Floats []float64 // float elements
}

// Header is a GGUF file's header: its metadata and tensor count, plus the
// parameter count summed from the tensor descriptors. Tensor data is never
// read.
type Header struct {
	Version     uint32
	TensorCount uint64
	// Metadata maps each key to its value: uint64/int64/float64 for numbers
	// (every width widened), bool, string, or Array. String values over
	// 1 MiB are omitted.
	Metadata map[string]any
	Params   uint64 // total elements of all tensors
}

// ReadHeaderFile reads the header of the GGUF file at path.
func ReadHeaderFile(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := ReadHeader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// ErrNotGGUF reports a file that does not start with the GGUF magic.
var ErrNotGGUF = errors.New("not a GGUF file")

// ReadHeader reads a GGUF header (versions 1 to 3, little-endian) from r.
func ReadHeader(r io.Reader) (*Header, error) {
	g := &reader{r: bufio.NewReaderSize(r, 1<<20)}
	var magic [4]byte
	if _, err := io.ReadFull(g.r, magic[:]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotGGUF, err)
	}
	if string(magic[:]) != Magic {
		return nil, fmt.Errorf("%w (starts with %q)", ErrNotGGUF, magic[:])
	}
	h := &Header{Version: g.u32(), Metadata: map[string]any{}}
	if g.err == nil && (h.Version < 1 || h.Version > 3) {
		return nil, fmt.Errorf("unsupported GGUF version %d", h.Version)
	}
	g.v1 = h.Version == 1
	h.TensorCount = g.count()
	nkv := g.count()
	if g.err != nil {
		return nil, g.fail()
	}
	if h.TensorCount > maxTensors || nkv > maxKVs {
		return nil, fmt.Errorf("implausible GGUF header: %d tensors, %d metadata keys", h.TensorCount, nkv)
	}
	for i := uint64(0); i < nkv && g.err == nil; i++ {
		key, ok := g.str(maxKeyLen)
		if !ok && g.err == nil {
			g.err = fmt.Errorf("metadata key %d longer than %d bytes", i, maxKeyLen)
		}
		v := g.value(ValueType(g.u32()))
		if g.err != nil {
			return nil, fmt.Errorf("metadata %q: %w", key, g.fail())
		}
		if v != nil {
			h.Metadata[key] = v
		}
	}
	for i := uint64(0); i < h.TensorCount && g.err == nil; i++ {
		g.skipString()
		nd := g.u32()
		if nd > maxDims {
			g.err = fmt.Errorf("tensor %d has %d dimensions", i, nd)
			break
		}
		n := uint64(1)
		for d := uint32(0); d < nd; d++ {
			n *= g.count()
		}
		g.u32() // type
		g.u64() // offset
		h.Params += n
	}
	if g.err != nil {
		return nil, fmt.Errorf("tensor descriptors: %w", g.fail())
	}
	return h, nil
}

// reader decodes little-endian GGUF values, keeping the first error.
type reader struct {
	r   *bufio.Reader
	v1  bool // version 1 uses 32-bit counts and lengths
	err error
	buf [8]byte
}

func (g *reader) fail() error {
	if errors.Is(g.err, io.EOF) || errors.Is(g.err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated header: %w", io.ErrUnexpectedEOF)
	}
	return g.err
}

func (g *reader) read(n int) []byte {
	if g.err != nil {
		return g.buf[:n:n]
	}
	_, g.err = io.ReadFull(g.r, g.buf[:n])
	return g.buf[:n]
}

func (g *reader) u8() uint8   { return g.read(1)[0] }
func (g *reader) u16() uint16 { return binary.LittleEndian.Uint16(g.read(2)) }
func (g *reader) u32() uint32 { return binary.LittleEndian.Uint32(g.read(4)) }
func (g *reader) u64() uint64 { return binary.LittleEndian.Uint64(g.read(8)) }

// count reads a count or length: 64 bits, or 32 in version 1.
func (g *reader) count() uint64 {
	if g.v1 {
		return uint64(g.u32())
	}
	return g.u64()
}

func (g *reader) discard(n uint64) {
	for n > 0 && g.err == nil {
		k := int(min(n, 1<<30))
		var d int
		d, g.err = g.r.Discard(k)
		n -= uint64(d)
	}
}

// str reads a string; one longer than limit is skipped and ok is false.
func (g *reader) str(limit uint64) (s string, ok bool) {
	n := g.count()
	if g.err != nil {
		return "", false
	}
	if n > limit {
		g.discard(n)
		return "", false
	}
	b := make([]byte, n)
	_, g.err = io.ReadFull(g.r, b)
	return string(b), g.err == nil
}

func (g *reader) skipString() { g.discard(g.count()) }

// value reads one value of type t; nil for one not kept.
func (g *reader) value(t ValueType) any {
	switch t {
	case TypeUint8:
		return uint64(g.u8())
	case TypeInt8:
		return int64(int8(g.u8()))
	case TypeUint16:
		return uint64(g.u16())
	case TypeInt16:
		return int64(int16(g.u16()))
	case TypeUint32:
		return uint64(g.u32())
	case TypeInt32:
		return int64(int32(g.u32()))
	case TypeUint64:
		return g.u64()
	case TypeInt64:
		return int64(g.u64())
	case TypeFloat32:
		return float64(math.Float32frombits(g.u32()))
	case TypeFloat64:
		return math.Float64frombits(g.u64())
	case TypeBool:
		return g.u8() != 0
	case TypeString:
		if s, ok := g.str(maxKeptString); ok {
			return s
		}
		return nil
	case TypeArray:
		return g.array()
	}
	if g.err == nil {
		g.err = fmt.Errorf("unknown value type %d", t)
	}
	return nil
}

func (g *reader) array() any {
	a := Array{Type: ValueType(g.u32()), Len: g.count()}
	if g.err != nil {
		return nil
	}
	size := a.Type.size()
	switch {
	case a.Type == TypeString:
		for i := uint64(0); i < a.Len && g.err == nil; i++ {
			g.skipString()
		}
	case size == 0:
		g.err = fmt.Errorf("unsupported array element type %d", a.Type)
	case a.Len > maxKeptArray:
		if a.Len > math.MaxUint64/size {
			g.err = fmt.Errorf("implausible array length %d", a.Len)
			return nil
		}
		g.discard(a.Len * size)
	default:
		for i := uint64(0); i < a.Len && g.err == nil; i++ {
			switch v := g.value(a.Type).(type) {
			case uint64:
				a.Ints = append(a.Ints, int64(v))
			case int64:
				a.Ints = append(a.Ints, v)
			case float64:
				a.Floats = append(a.Floats, v)
			case bool:
				b := int64(0)
				if v {
					b = 1
				}
				a.Ints = append(a.Ints, b)
			}
		}
	}
	return a
}

// String returns the string value of key, or "".
func (h *Header) String(key string) string {
	s, _ := h.Metadata[key].(string)
	return s
}

// Int returns the integer value of key. An integer array gives its largest
// element. ok is false when the key is absent or not an integer.
func (h *Header) Int(key string) (int64, bool) {
	switch v := h.Metadata[key].(type) {
	case uint64:
		if v > math.MaxInt64 {
			return math.MaxInt64, true
		}
		return int64(v), true
	case int64:
		return v, true
	case Array:
		if len(v.Ints) == 0 {
			return 0, false
		}
		m := v.Ints[0]
		for _, x := range v.Ints {
			m = max(m, x)
		}
		return m, true
	}
	return 0, false
}
