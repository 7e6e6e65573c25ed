// Package synth generates deterministic random-weight Mixture-of-Experts
// models as GGUF v3 files that llama.cpp loads like any other model.
//
// No weights can be downloaded on the machines that build and test lore, so
// its tests and benchmarks run on models the project makes itself. The models
// have a real MoE architecture in llama.cpp's "llama" layout (Mixtral style:
// grouped-query attention, a router per layer and stacked expert tensors), so
// everything lore does with an engine (prefill, KV cache reuse, sequence
// copies, state save and restore, truncation) goes through the same code paths
// in llama.cpp as with a real model. Their answers are meaningless text; what
// they prove is the mechanics.
//
// Every weight is drawn from a PCG generator seeded from the seed and the
// tensor's name, and the file is written in a fixed order, so a seed always
// gives the same bytes.
//
// # Vocabulary
//
// The vocabulary is derived from the cl100k_base BPE ranks (the tokenizer of
// GPT-4 class models, shipped offline in github.com/pkoukk/tiktoken-go-loader)
// rather than made up. Pack sizes, prefill times and context budgets depend on
// how many tokens a repository costs, and a toy vocabulary would make a
// repository several times longer in tokens than a real model sees it. Taking
// the most frequent cl100k tokens, in rank order, gives a SentencePiece
// ("llama") vocabulary whose token counts on source code are close to those of
// real models with a vocabulary of the same size, so the demo and benchmark
// numbers are realistic.
//
// The pieces are written the SentencePiece way (a space becomes U+2581 '▁')
// with score -rank, so llama.cpp's SPM tokenizer, which repeatedly merges the
// adjacent pair whose concatenation is the highest-scored token, replays BPE's
// merge order. Every byte has a byte-fallback token <0x00>..<0xFF>, so any
// input tokenizes and detokenizes back to the same bytes. No space prefix is
// added, because lore tokenizes each file on its own.
package synth
