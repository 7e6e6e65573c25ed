package engine

import "context"

// Backend is what the daemon needs of an engine: a tokenizer, a prefix it
// keeps in sync with the pack, snapshots of that prefix, and answers on top
// of it. The in-process Engine is one implementation; engine/remote (a
// llama.cpp server or an OpenAI-compatible one over HTTP) is the other. The
// daemon holds a Backend and does not know which one it has.
type Backend interface {
	// Info describes the model and the context the prefix must fit.
	Info() ModelInfo
	// Settings is the effective configuration; the daemon keys snapshots
	// by its context settings.
	Settings() Config
	// Tokenize, BOS and TokenizerFingerprint are the model's vocabulary.
	Tokenize(text string) []Token
	BOS() (Token, bool)
	TokenizerFingerprint() string
	// PrefixLen, Holds, Sync and Truncate are the prefix: what the
	// engine holds before every question.
	PrefixLen() int
	Holds(tokens []Token) bool
	Sync(ctx context.Context, tokens []Token, progress Progress) (SyncStats, error)
	Truncate(n int) error
	// SaveStateAs and LoadState persist the prefix across restarts (the
	// state is opaque to the caller: KV bytes in process, a reference to
	// a server-side slot save remotely). name is the snapshot's (one per
	// branch): a remote engine keeps one save per name on the server.
	SaveStateAs(name string) ([]byte, []Token, error)
	LoadState(state []byte, tokens []Token) error
	// Generate answers one question after the prefix.
	Generate(ctx context.Context, req GenerateRequest, emit Emit) (GenerateStats, error)
	// Queue and BatchStats are for status.
	Queue() (running, waiting int)
	BatchStats() BatchStats
	Close() error
}

var _ Backend = (*Engine)(nil)
