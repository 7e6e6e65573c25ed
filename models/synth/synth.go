package synth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"

	"lore/models/gguf"
)

// Write writes the model of spec, with weights drawn from seed, as a GGUF v3
// file. The same spec and seed always give the same bytes. The tensor data is
// generated while it is written, so memory use stays small whatever the size.
func Write(w io.Writer, spec Spec, seed int64) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	voc, err := buildVocab(spec.VocabSize)
	if err != nil {
		return err
	}
	meta := metadata(spec, voc)
	ts := spec.tensors()

	g := gguf.NewWriter(w)
	g.Begin(len(ts), meta)
	var off int64
	for _, t := range ts {
		g.TensorInfo(t.name, t.dims, gguf.TensorF32, uint64(off))
		off = gguf.AlignUp(off + 4*t.elems())
	}
	g.Pad()
	for _, t := range ts {
		writeTensor(g, t, seed)
		g.Pad()
	}
	if err := g.Flush(); err != nil {
		return fmt.Errorf("synth: writing %s: %w", spec.Name, err)
	}
	return nil
}

func metadata(s Spec, v *vocab) []gguf.KV {
	return []gguf.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "general.name", Value: s.Name},
		{Key: "general.alignment", Value: uint32(gguf.Alignment)},
		{Key: "general.file_type", Value: uint32(0)}, // all F32
		{Key: "llama.vocab_size", Value: uint32(s.VocabSize)},
		{Key: "llama.context_length", Value: uint32(s.ContextLength)},
		{Key: "llama.embedding_length", Value: uint32(s.Embd)},
		{Key: "llama.block_count", Value: uint32(s.Layers)},
		{Key: "llama.feed_forward_length", Value: uint32(s.ExpertFFN)},
		{Key: "llama.attention.head_count", Value: uint32(s.Heads)},
		{Key: "llama.attention.head_count_kv", Value: uint32(s.HeadsKV)},
		{Key: "llama.rope.dimension_count", Value: uint32(s.HeadDim())},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: s.RMSEpsilon},
		{Key: "llama.rope.freq_base", Value: s.RopeFreqBase},
		{Key: "llama.expert_count", Value: uint32(s.Experts)},
		{Key: "llama.expert_used_count", Value: uint32(s.ExpertsUsed)},
		{Key: "tokenizer.ggml.model", Value: "llama"},
		{Key: "tokenizer.ggml.tokens", Value: v.tokens},
		{Key: "tokenizer.ggml.scores", Value: v.scores},
		{Key: "tokenizer.ggml.token_type", Value: v.types},
		{Key: "tokenizer.ggml.unknown_token_id", Value: uint32(unkID)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(bosID)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(eosID)},
		{Key: "tokenizer.ggml.add_bos_token", Value: true},
		{Key: "tokenizer.ggml.add_eos_token", Value: false},
		{Key: "tokenizer.ggml.add_space_prefix", Value: false},
	}
}

// writeTensor streams one tensor's F32 values. Each tensor has its own PCG
// stream, seeded from the model seed and the tensor name, so a tensor's
// values do not depend on the tensors before it.
func writeTensor(g *gguf.Writer, t tensor, seed int64) {
	h := fnv.New64a()
	h.Write([]byte(t.name))
	r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	std := float64(t.std)

	const chunk = 1 << 14 // values per write
	buf := make([]byte, 4*chunk)
	for left := t.elems(); left > 0 && g.Err() == nil; {
		n := int64(chunk)
		if left < n {
			n = left
		}
		for i := int64(0); i < n; i++ {
			f := float32(1)
			if !t.ones {
				f = float32(r.NormFloat64() * std)
			}
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
		}
		g.Write(buf[:4*n])
		left -= n
	}
}

// WriteFile writes the model of size s to path so that a crash at any moment
// leaves either no file or a complete one: it writes a temporary file in the
// same folder, syncs it and renames it over path. The folder is created if
// needed.
func WriteFile(path string, s Size, seed int64) (err error) {
	spec, err := SpecFor(s)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = Write(f, spec, seed); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("synth: syncing %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("synth: closing %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// folder report EINVAL, which is not an error here.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("synth: syncing %s: %w", dir, err)
	}
	return nil
}
