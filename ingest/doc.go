// Package ingest turns a working tree into the prompt prefix that lore keeps
// in the model's KV cache.
//
// The pipeline is Scan (list and read the files git would consider part of
// the work tree, leaving out binary, oversized, vendored, generated and
// secret-holding files with their reasons), Parse (tree-sitter definitions,
// signatures and references for the languages Languages lists, cached by
// content hash through ScanOptions.Cache; Skeleton reduces a file to its
// signatures), LoadHeat (churn from git history, coldest first), Rank and
// RepoMap (personalised PageRank over references, and the map of the most
// referenced definitions), and BuildPack (ordered segments with a hash chain,
// within an optional token budget).
//
// Packer keeps a pack up to date as files change, on the tiered Layout (cold
// base, warm tier, overlay), so that an edit costs about its own tokens.
// lore bench freshness (internal/bench) measures that cost on a real history.
package ingest
