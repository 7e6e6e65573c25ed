package synth

import (
	"fmt"
	"strings"
)

// Size names one of the model shapes the project generates.
type Size string

// The generated model sizes.
const (
	Tiny  Size = "tiny"  // tests: about 1.4 MB, a 1,000-token vocabulary
	Demo  Size = "demo"  // the README demo: realistic vocabulary, small dims, fast prefill (about 40 MB)
	Bench Size = "bench" // benchmarks: about 114M parameters, realistic vocabulary (about 455 MB)
)

// DefaultSeed is the seed of the models that tests, demos and benchmarks use.
const DefaultSeed int64 = 1

// Sizes lists the known sizes, smallest first.
func Sizes() []Size { return []Size{Tiny, Demo, Bench} }

// Spec is the shape of a generated model. All fields are required except the
// two standard deviations, which default to 0.02 (weights) and 0.1 (router).
type Spec struct {
	Name          string  // general.name
	Layers        int     // llama.block_count
	Embd          int     // llama.embedding_length
	Heads         int     // llama.attention.head_count
	HeadsKV       int     // llama.attention.head_count_kv (grouped-query attention when < Heads)
	ExpertFFN     int     // llama.feed_forward_length: hidden size of each expert
	Experts       int     // llama.expert_count
	ExpertsUsed   int     // llama.expert_used_count
	VocabSize     int     // tokens, including <unk>, <s>, </s> and the 256 byte tokens
	ContextLength int     // llama.context_length (metadata only for random weights)
	RMSEpsilon    float32 // llama.attention.layer_norm_rms_epsilon
	RopeFreqBase  float32 // llama.rope.freq_base
	WeightStd     float32 // standard deviation of the random weights
	RouterStd     float32 // standard deviation of the router weights (larger, so routing varies)
}

// ContextLength is the context length every generated model declares. It is
// only metadata: random weights have no trained context limit.
const ContextLength = 262144

func base(name string) Spec {
	return Spec{
		Name:          "lore-synth-" + name,
		ContextLength: ContextLength,
		RMSEpsilon:    1e-5,
		RopeFreqBase:  10000,
		WeightStd:     0.02,
		RouterStd:     0.1,
	}
}

// SpecFor returns the shape of a named size.
func SpecFor(s Size) (Spec, error) {
	sp := base(string(s))
	switch s {
	case Tiny:
		sp.VocabSize = 1000
		sp.Embd, sp.Layers = 64, 2
		sp.Heads, sp.HeadsKV = 4, 2
		sp.Experts, sp.ExpertsUsed, sp.ExpertFFN = 4, 2, 128
	case Demo:
		sp.VocabSize = 32000
		sp.Embd, sp.Layers = 128, 4
		sp.Heads, sp.HeadsKV = 4, 2
		sp.Experts, sp.ExpertsUsed, sp.ExpertFFN = 4, 2, 256
	case Bench:
		sp.VocabSize = 32000
		sp.Embd, sp.Layers = 512, 8
		sp.Heads, sp.HeadsKV = 8, 2
		sp.Experts, sp.ExpertsUsed, sp.ExpertFFN = 8, 2, 768
	default:
		return Spec{}, fmt.Errorf("synth: unknown model size %q (valid: %s)", string(s), validSizes())
	}
	return sp, nil
}

// ParseSize parses a size name, ignoring case and surrounding space.
func ParseSize(s string) (Size, error) {
	v := Size(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Sizes() {
		if v == k {
			return k, nil
		}
	}
	return "", fmt.Errorf("synth: unknown model size %q (valid: %s)", s, validSizes())
}

func validSizes() string {
	names := make([]string, 0, 3)
	for _, k := range Sizes() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// HeadDim is the size of one attention head (also the RoPE dimension count).
func (s Spec) HeadDim() int { return s.Embd / s.Heads }

// EmbdKV is the width of the K and V projections.
func (s Spec) EmbdKV() int { return s.HeadDim() * s.HeadsKV }

// Params is the number of weights in the model.
func (s Spec) Params() int64 {
	var n int64
	for _, t := range s.tensors() {
		n += t.elems()
	}
	return n
}

// Validate reports the first field that llama.cpp would reject or that this
// package cannot generate.
func (s Spec) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("synth: spec needs a name")
	case s.Layers < 1:
		return fmt.Errorf("synth: %s: layers must be at least 1", s.Name)
	case s.Embd < 1 || s.Heads < 1 || s.Embd%s.Heads != 0:
		return fmt.Errorf("synth: %s: embedding length %d must be a positive multiple of the head count %d", s.Name, s.Embd, s.Heads)
	case s.HeadDim()%2 != 0:
		return fmt.Errorf("synth: %s: head dimension %d must be even for RoPE", s.Name, s.HeadDim())
	case s.HeadsKV < 1 || s.Heads%s.HeadsKV != 0:
		return fmt.Errorf("synth: %s: head count %d must be a multiple of the KV head count %d", s.Name, s.Heads, s.HeadsKV)
	case s.ExpertFFN < 1:
		return fmt.Errorf("synth: %s: expert FFN size must be positive", s.Name)
	case s.Experts < 1 || s.ExpertsUsed < 1 || s.ExpertsUsed > s.Experts:
		return fmt.Errorf("synth: %s: need 1 <= experts used (%d) <= experts (%d)", s.Name, s.ExpertsUsed, s.Experts)
	case s.VocabSize < firstNormal+1:
		return fmt.Errorf("synth: %s: vocabulary size %d is below the minimum %d", s.Name, s.VocabSize, firstNormal+1)
	case s.ContextLength < 1:
		return fmt.Errorf("synth: %s: context length must be positive", s.Name)
	case s.RMSEpsilon <= 0 || s.RopeFreqBase <= 0:
		return fmt.Errorf("synth: %s: RMS epsilon and RoPE base must be positive", s.Name)
	case s.WeightStd < 0 || s.RouterStd < 0:
		return fmt.Errorf("synth: %s: standard deviations must not be negative", s.Name)
	}
	return nil
}

// tensor describes one weight tensor: its GGUF name, its dimensions innermost
// first, and how its values are drawn.
type tensor struct {
	name string
	dims []int
	ones bool    // norm weight: all 1.0
	std  float32 // otherwise normal(0, std)
}

func (t tensor) elems() int64 {
	n := int64(1)
	for _, d := range t.dims {
		n *= int64(d)
	}
	return n
}

// tensors lists the model's tensors in file order, named and shaped as
// llama.cpp's llama architecture expects them for a MoE model.
func (s Spec) tensors() []tensor {
	std, rstd := s.WeightStd, s.RouterStd
	if std == 0 {
		std = 0.02
	}
	if rstd == 0 {
		rstd = 0.1
	}
	e, kv, ff, x, v := s.Embd, s.EmbdKV(), s.ExpertFFN, s.Experts, s.VocabSize
	ts := []tensor{{name: "token_embd.weight", dims: []int{e, v}, std: std}}
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			tensor{name: p + "attn_norm.weight", dims: []int{e}, ones: true},
			tensor{name: p + "attn_q.weight", dims: []int{e, e}, std: std},
			tensor{name: p + "attn_k.weight", dims: []int{e, kv}, std: std},
			tensor{name: p + "attn_v.weight", dims: []int{e, kv}, std: std},
			tensor{name: p + "attn_output.weight", dims: []int{e, e}, std: std},
			tensor{name: p + "ffn_norm.weight", dims: []int{e}, ones: true},
			tensor{name: p + "ffn_gate_inp.weight", dims: []int{e, x}, std: rstd},
			tensor{name: p + "ffn_gate_exps.weight", dims: []int{e, ff, x}, std: std},
			tensor{name: p + "ffn_up_exps.weight", dims: []int{e, ff, x}, std: std},
			tensor{name: p + "ffn_down_exps.weight", dims: []int{ff, e, x}, std: std},
		)
	}
	return append(ts,
		tensor{name: "output_norm.weight", dims: []int{e}, ones: true},
		tensor{name: "output.weight", dims: []int{e, v}, std: std},
	)
}
