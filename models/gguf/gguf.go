// Package gguf reads and writes the GGUF file format: the reader decodes a
// header (metadata and tensor descriptors, never tensor data) in pure Go, the
// writer streams a file that llama.cpp loads. Both share one table of value
// types.
package gguf

// Magic is the four bytes every GGUF file starts with.
const Magic = "GGUF"

// Version is the GGUF version the writer produces; the reader also accepts
// versions 1 and 2.
const Version = 3

// Alignment is the default alignment of the tensor data section and of each
// tensor in it (general.alignment).
const Alignment = 32

// ValueType is the type of a metadata value or array element.
type ValueType uint32

// GGUF value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

// size is the encoded width of a fixed-size type; 0 for strings and arrays.
func (t ValueType) size() uint64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// TensorF32 is the ggml tensor type of 32-bit float data.
const TensorF32 uint32 = 0

// AlignUp rounds n up to a multiple of Alignment.
func AlignUp(n int64) int64 {
	return (n + Alignment - 1) / Alignment * Alignment
}
