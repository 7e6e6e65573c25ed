package api

// Limits the daemon enforces on what a client sends. They are in the API so
// that clients can check before sending.
const (
	// MaxQuestionBytes caps AskParams.Question. Whether a question fits
	// the room kept for it is known only once it is tokenized, which
	// cannot be interrupted (a 256 KiB question without white space once
	// took 10 s on the tiny test model): the bytes are checked first. 64
	// KiB is more text than the largest room kept for a question (16,384
	// tokens) holds.
	MaxQuestionBytes = 64 << 10

	// MaxMessageBytes caps one JSON-RPC message on the daemon's socket; a
	// longer one is answered with CodeInvalidRequest and skipped without
	// being held in memory. It leaves room for an editor buffer as large as
	// the LSP bridge's own limit (16 MiB), escaped as JSON.
	MaxMessageBytes = 32 << 20

	// MaxTemperature caps AskParams.Temperature: beyond it the sampled
	// text is noise.
	MaxTemperature = 2
)
