// Package ingest holds the domain types of turning a working tree into the
// prompt prefix that lore keeps in the model's KV cache: File, Symbol,
// Segment and Pack, and the text format the model reads (FileText,
// EstimateTokens). The work is done by its sub-packages, each of which may
// import only the packages listed before it:
//
//	layout    the tiered order of the file segments (cold base, warm tier,
//	          overlay) and its policy, whose tunable defaults it reads from
//	          config (the settings)
//	syntax    tree-sitter definitions, signatures and references, cached by
//	          content hash; skeletons; language detection
//	scan      the files git would consider part of the work tree, less the
//	          binary, oversized, vendored, generated and secret-holding ones,
//	          with their reasons; opening the repository
//	history   git history: first-parent chains, changed files, churn heat
//	rank      PageRank over references, and the repository map
//	pack      the pack (ordered segments with a hash chain, within a token
//	          budget), and the Packer that keeps it fresh as files change
//	retrieve  files a question names that the pack holds only in part
package ingest
