package models

import (
	"fmt"
	"strings"
)

// Recommended is a model lore suggests for a repository: a GGUF file on
// Hugging Face and the shape of its attention, from which the KV cache cost
// and the context that fits in memory are computed.
type Recommended struct {
	// Name is the short name `lore model pull` accepts.
	Name string `json:"name"`
	// Title says what the model is, in a few words.
	Title string `json:"title"`
	// Repo and File are the Hugging Face repository and the GGUF file in it.
	Repo string `json:"repo"`
	File string `json:"file"`
	// DownloadBytes is the file's size as Hugging Face lists it (rounded to
	// 0.1 GB). The weights are memory-mapped, so it is also the memory they
	// take.
	DownloadBytes int64 `json:"download_bytes"`
	// Layers, KVHeads and HeadDim are the attention shape of the model's
	// config (num_hidden_layers, num_key_value_heads, head_dim); the GGUF
	// header carries the same, and `lore model info` reads it from the file.
	Layers  int `json:"layers"`
	KVHeads int `json:"kv_heads"`
	HeadDim int `json:"head_dim"`
	// TrainContext is the context the model was trained for, in tokens.
	TrainContext int `json:"train_context"`
}

// RecommendedModels are the models the README and `lore model ls
// --recommended` suggest: mixture-of-experts coders with few active
// parameters, so that a CPU prefills them at a usable speed.
var RecommendedModels = []Recommended{
	{
		Name:          "qwen3-coder-30b",
		Title:         "Qwen3-Coder-30B-A3B-Instruct, Q4_K_M (MoE, 3B active)",
		Repo:          "unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF",
		File:          "Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf",
		DownloadBytes: 18_600_000_000,
		Layers:        48, KVHeads: 4, HeadDim: 128,
		TrainContext: 262144,
	},
	{
		Name:          "gpt-oss-20b",
		Title:         "gpt-oss-20b, Q4_K_M (MoE, 3.6B active)",
		Repo:          "unsloth/gpt-oss-20b-GGUF",
		File:          "gpt-oss-20b-Q4_K_M.gguf",
		DownloadBytes: 11_600_000_000,
		Layers:        24, KVHeads: 8, HeadDim: 64,
		TrainContext: 131072,
	},
}

// Ref is the model's Hugging Face shorthand, hf:REPO/FILE.
func (r Recommended) Ref() string { return HFScheme + r.Repo + "/" + r.File }

// KVBytesPerToken is the KV cache cost of one token with cache type kvType
// (f16, q8_0 or q4_0).
func (r Recommended) KVBytesPerToken(kvType string) int64 {
	return KVBytesPerTokenOf(r.Layers*r.KVHeads, r.HeadDim, r.HeadDim, kvType)
}

// FindRecommended returns the recommended model with this short name.
func FindRecommended(name string) (Recommended, bool) {
	for _, r := range RecommendedModels {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return Recommended{}, false
}

// RecommendedNames lists the short names, for error messages.
func RecommendedNames() string {
	var names []string
	for _, r := range RecommendedModels {
		names = append(names, r.Name)
	}
	return strings.Join(names, ", ")
}

// RuntimeReserve is the memory counted for llama.cpp's compute buffers, the
// logits and lore itself on top of weights and KV cache. It is an estimate
// (llama.cpp reports a few hundred MB of compute buffers for these models
// at lore's batch of 512), rounded up so that a fit is not a near miss.
const RuntimeReserve int64 = 1 << 30

// KVElementBytes is the size of one KV cache element of type kvType, as
// llama.cpp stores it: f16 two bytes; q8_0 34 bytes and q4_0 18 bytes per
// block of 32.
func KVElementBytes(kvType string) (num, den int64, err error) {
	switch kvType {
	case "", "f16":
		return 2, 1, nil
	case "q8_0":
		return 34, 32, nil
	case "q4_0":
		return 18, 32, nil
	}
	return 0, 0, fmt.Errorf("KV cache type %q is not one of f16, q8_0, q4_0", kvType)
}

// KVBytesPerTokenOf is the KV cache cost of one token over all layers:
// kvHeads is the sum over the layers of their KV heads, keyLen and valueLen
// the widths of one head's K and V, kvType the element type (an unknown
// type counts as f16).
func KVBytesPerTokenOf(kvHeads, keyLen, valueLen int, kvType string) int64 {
	num, den, err := KVElementBytes(kvType)
	if err != nil {
		num, den = 2, 1
	}
	return int64(kvHeads) * int64(keyLen+valueLen) * num / den
}
