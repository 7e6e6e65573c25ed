// Package ingest turns a working tree into the prompt prefix that lore keeps
// in the model's KV cache.
//
// The pipeline is Scan (list and read the files git would consider part of
// the work tree), ParseGo (tree-sitter definitions and signatures), and
// BuildPack (ordered segments with a hash chain), optionally followed by
// Pack.Fit to cut the pack down to a token budget.
//
// This is the spine version: Go symbols only, segments in path order. Ranking,
// churn order, skeletons, the overlay and more languages come later; the types
// are shaped so they can be added without breaking callers.
package ingest
