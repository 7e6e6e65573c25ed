// Package models manages GGUF model files in lore's models folder: it reads
// their metadata (header only, through package gguf), estimates their
// KV-cache cost and downloads them with resume and checksum verification.
package models

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"lore/config"
	"lore/models/gguf"
)

// Dir is the models folder: config.DataDir()/models.
func Dir() string { return config.ModelsDir() }

// Info is what lore reads from a GGUF file's header. Counts the header does
// not declare are 0.
type Info struct {
	Path          string `json:"path"`
	File          string `json:"file"`
	Size          int64  `json:"size"`
	Architecture  string `json:"architecture,omitempty"`
	Name          string `json:"name,omitempty"`
	Params        uint64 `json:"params,omitempty"`
	ContextLength int    `json:"context_length,omitempty"`
	Layers        int    `json:"layers,omitempty"`
	Experts       int    `json:"experts,omitempty"`
	ExpertsUsed   int    `json:"experts_used,omitempty"`
	Embedding     int    `json:"embedding_length,omitempty"`
	Heads         int    `json:"heads,omitempty"`
	HeadsKV       int    `json:"heads_kv,omitempty"`
	// KeyLength and ValueLength are the per-head K and V widths: the
	// header's <arch>.attention.key_length / value_length, else
	// embedding_length / head_count.
	KeyLength   int `json:"key_length,omitempty"`
	ValueLength int `json:"value_length,omitempty"`
	// KVBytesPerToken is the f16 KV cache cost of one token over all layers
	// (0 when the header lacks the shape).
	KVBytesPerToken int64 `json:"kv_bytes_per_token,omitempty"`
	// KVHeadsTotal is the sum over the layers of their KV heads (the
	// header may give a count per layer).
	KVHeadsTotal int `json:"kv_heads_total,omitempty"`
	// Err says why the header could not be read; the other fields beyond
	// Path, File and Size are then empty.
	Err string `json:"error,omitempty"`
}

// Describe reads the header of the GGUF file at path. A file that exists but
// whose header cannot be read gives an Info with Err set and a nil error.
func Describe(path string) (Info, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Info{}, err
	}
	if st.IsDir() {
		return Info{}, errors.New(path + " is a folder, not a GGUF file")
	}
	info := Info{Path: path, File: filepath.Base(path), Size: st.Size()}
	h, err := gguf.ReadHeaderFile(path)
	if err != nil {
		info.Err = err.Error()
		return info, nil
	}
	info.fill(h)
	return info, nil
}

// FromHeader describes a header (Path, File and Size are left empty).
func FromHeader(h *gguf.Header) Info {
	var info Info
	info.fill(h)
	return info
}

func (info *Info) fill(h *gguf.Header) {
	arch := h.String("general.architecture")
	info.Architecture = arch
	info.Name = h.String("general.name")
	info.Params = h.Params
	get := func(key string) int {
		v, _ := h.Int(arch + "." + key)
		return int(v)
	}
	info.ContextLength = get("context_length")
	info.Layers = get("block_count")
	info.Experts = get("expert_count")
	info.ExpertsUsed = get("expert_used_count")
	info.Embedding = get("embedding_length")
	info.Heads = get("attention.head_count")
	info.HeadsKV = get("attention.head_count_kv")
	if info.HeadsKV == 0 {
		info.HeadsKV = info.Heads // no grouped-query attention
	}
	info.KeyLength = get("attention.key_length")
	info.ValueLength = get("attention.value_length")
	if info.Heads > 0 {
		if info.KeyLength == 0 {
			info.KeyLength = info.Embedding / info.Heads
		}
		if info.ValueLength == 0 {
			info.ValueLength = info.Embedding / info.Heads
		}
	}
	// head_count_kv may be per layer (an array): sum it.
	var kvHeads int64
	if a, ok := h.Metadata[arch+".attention.head_count_kv"].(gguf.Array); ok && len(a.Ints) > 0 {
		for _, n := range a.Ints {
			kvHeads += n
		}
	} else {
		kvHeads = int64(info.Layers) * int64(info.HeadsKV)
	}
	info.KVHeadsTotal = int(kvHeads)
	info.KVBytesPerToken = KVBytesPerToken(1, int(kvHeads), info.KeyLength, info.ValueLength)
}

// KVBytesPerTokenFor is the KV cache cost of one token with cache type
// kvType (f16, q8_0, q4_0); 0 when the header lacks the shape.
func (info Info) KVBytesPerTokenFor(kvType string) int64 {
	return KVBytesPerTokenOf(info.KVHeadsTotal, info.KeyLength, info.ValueLength, kvType)
}

// KVBytesPerToken is the f16 KV cache cost of one token: for each layer, K
// and V of head_count_kv heads, 2 bytes an element. With key and value widths
// both equal to the head dimension it is 2 × layers × kvHeads × headDim × 2.
func KVBytesPerToken(layers, kvHeads, keyLen, valueLen int) int64 {
	return KVBytesPerTokenOf(layers*kvHeads, keyLen, valueLen, "f16")
}

// TokensIn is how many tokens of KV cache fit in memory bytes (0 when the
// per-token cost is unknown).
func (info Info) TokensIn(memory int64) int64 {
	if info.KVBytesPerToken <= 0 || memory <= 0 {
		return 0
	}
	return memory / info.KVBytesPerToken
}

// List describes the GGUF files (*.gguf) in dir, sorted by name. A missing
// folder is an empty list. Files whose header cannot be read are listed with
// Err set.
func List(dir string) ([]Info, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return []Info{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Info{}
	for _, e := range ents {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".gguf") {
			continue
		}
		info, err := Describe(filepath.Join(dir, e.Name()))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // removed while listing
			}
			return nil, err
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}
