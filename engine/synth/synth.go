package synth

import (
	"bufio"
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

	g := &ggufWriter{w: bufio.NewWriterSize(w, 1<<20)}
	g.write([]byte(ggufMagic))
	g.u32(ggufVersion)
	g.u64(uint64(len(ts)))
	g.u64(uint64(len(meta)))
	for _, k := range meta {
		g.kv(k)
	}
	var off int64
	for _, t := range ts {
		g.tensorInfo(t, uint64(off))
		off = alignUp(off + 4*t.elems())
	}
	g.pad()
	for _, t := range ts {
		writeTensor(g, t, seed)
		g.pad()
	}
	if g.err != nil {
		return fmt.Errorf("synth: writing %s: %w", spec.Name, g.err)
	}
	if err := g.w.Flush(); err != nil {
		return fmt.Errorf("synth: writing %s: %w", spec.Name, err)
	}
	return nil
}

func metadata(s Spec, v *vocab) []kv {
	return []kv{
		{"general.architecture", "llama"},
		{"general.name", s.Name},
		{"general.alignment", uint32(ggufAlignment)},
		{"general.file_type", uint32(0)}, // all F32
		{"llama.vocab_size", uint32(s.VocabSize)},
		{"llama.context_length", uint32(s.ContextLength)},
		{"llama.embedding_length", uint32(s.Embd)},
		{"llama.block_count", uint32(s.Layers)},
		{"llama.feed_forward_length", uint32(s.ExpertFFN)},
		{"llama.attention.head_count", uint32(s.Heads)},
		{"llama.attention.head_count_kv", uint32(s.HeadsKV)},
		{"llama.rope.dimension_count", uint32(s.HeadDim())},
		{"llama.attention.layer_norm_rms_epsilon", s.RMSEpsilon},
		{"llama.rope.freq_base", s.RopeFreqBase},
		{"llama.expert_count", uint32(s.Experts)},
		{"llama.expert_used_count", uint32(s.ExpertsUsed)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", v.tokens},
		{"tokenizer.ggml.scores", v.scores},
		{"tokenizer.ggml.token_type", v.types},
		{"tokenizer.ggml.unknown_token_id", uint32(unkID)},
		{"tokenizer.ggml.bos_token_id", uint32(bosID)},
		{"tokenizer.ggml.eos_token_id", uint32(eosID)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
		{"tokenizer.ggml.add_space_prefix", false},
	}
}

// writeTensor streams one tensor's F32 values. Each tensor has its own PCG
// stream, seeded from the model seed and the tensor name, so a tensor's
// values do not depend on the tensors before it.
func writeTensor(g *ggufWriter, t tensor, seed int64) {
	h := fnv.New64a()
	h.Write([]byte(t.name))
	r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	std := float64(t.std)

	const chunk = 1 << 14 // values per write
	buf := make([]byte, 4*chunk)
	for left := t.elems(); left > 0 && g.err == nil; {
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
		g.write(buf[:4*n])
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
