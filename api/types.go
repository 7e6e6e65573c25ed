// Package api is the daemon's local API: JSON-RPC 2.0 over a unix socket.
// It holds the wire types and the typed Client that every lore client (the
// ask CLI, lore status, the LSP bridge, git hooks) uses, so each of them
// exercises the daemon's real API.
package api

import "time"

// JSON-RPC methods served by the daemon.
const (
	MethodStatus   = "status"
	MethodAsk      = "ask"
	MethodShutdown = "shutdown"

	// Unsaved editor buffers: their text replaces the file's on disk in
	// the pack until the buffer is closed (or saved and closed).
	MethodBufferUpdate = "buffer/update" // BufferParams
	MethodBufferClose  = "buffer/close"  // BufferParams, Text unused

	// MethodCancel is a notification: stop the caller's ask whose Stream
	// is given (CancelParams); its engine sequence is freed at once.
	MethodCancel = "ask/cancel"

	// Planning sessions (see AskParams.Session).
	MethodSessionList   = "session/list"   // no params → []SessionInfo
	MethodSessionGet    = "session/get"    // SessionParams → Session
	MethodSessionDelete = "session/delete" // SessionParams
)

// Priorities of questions: when the engine is busy, interactive questions
// are served first, then hooks (commit messages, summaries), then
// background work.
const (
	PriorityInteractive = "interactive" // the default
	PriorityHook        = "hook"
	PriorityBackground  = "background"
)

// Notifications the daemon sends to a caller while its request runs.
const (
	NotifyToken    = "ask/token"    // TokenParams
	NotifyProgress = "ask/progress" // ProgressParams
)

// Daemon states reported by Status.
const (
	StateLoading    = "loading"    // opening the model, scanning, restoring
	StatePrefilling = "prefilling" // computing the prefix KV
	StateReady      = "ready"
	StateStopping   = "stopping"
	StateFailed     = "failed"
)

// Omitted is a file the context could not hold in full: reduced to its
// signatures, or present only in the map.
type Omitted struct {
	Path   string     `json:"path"`
	Reason OmitReason `json:"reason"`
}

// OmitReason says how a file was reduced; its value is the sentence the
// JSON carries, for people reading it.
type OmitReason string

// Omission reasons.
const (
	OmitSkeleton OmitReason = "reduced to its signatures to fit the context"
	OmitMap      OmitReason = "only in the map: does not fit the context"
)

// Status is the daemon's state. Token counts are exact, in model tokens.
type Status struct {
	Repo            string    `json:"repo"`
	PID             int       `json:"pid"`
	State           string    `json:"state"`
	Error           string    `json:"error,omitempty"` // why the daemon failed, when State is failed
	Model           string    `json:"model"`
	ModelPath       string    `json:"model_path"`
	ContextSize     int       `json:"context_size"`
	PackTokens      int       `json:"pack_tokens"`      // tokens of the current pack
	PackVersion     string    `json:"pack_version"`     // chain hash of the pack's last segment (short)
	KVTokens        int       `json:"kv_tokens"`        // valid tokens in sequence 0
	PrefilledTokens int       `json:"prefilled_tokens"` // pack tokens prefilled since this daemon started
	RestoredTokens  int       `json:"restored_tokens"`  // tokens restored from a snapshot at start
	Segments        int       `json:"segments"`
	Files           int       `json:"files"`   // files in full in the pack
	Skipped         int       `json:"skipped"` // files the scan skipped (binary, too large, ...)
	Omitted         []Omitted `json:"omitted"` // files not in full, to fit the context
	Progress        *Progress `json:"progress,omitempty"`
	SnapshotBytes   int64     `json:"snapshot_bytes"`
	UptimeSeconds   float64   `json:"uptime_seconds"`
	// Engine speed, measured on the last prefill of at least 256 tokens
	// and the last answer; 0 until there was one.
	PrefillTokensPerSec float64 `json:"prefill_tokens_per_sec"`
	DecodeTokensPerSec  float64 `json:"decode_tokens_per_sec"`
	ActiveQuestions     int     `json:"active_questions"` // being answered now
	// QuestionPrefillTokensPerSec is the prefill speed of the last
	// question that prefilled at least 256 tokens after the prefix (its
	// retrieved files, code and text), where each token attends to the
	// whole prefix; 0 until there was one.
	QuestionPrefillTokensPerSec float64 `json:"question_prefill_tokens_per_sec"`
	// RetrievalAllowance is what a question (outside a session) may spend
	// on retrieved files now: QuestionPrefillTokensPerSec (before a
	// question measured it, PrefillTokensPerSec) times retrieval_latency,
	// within the room the context leaves (0 before the model is loaded).
	RetrievalAllowance int `json:"retrieval_allowance"`
	// LastRetrieved and LastRetrievedFull are AskResult.Retrieved and
	// RetrievedFull of the last question answered (nil before one).
	LastRetrieved     []string `json:"last_retrieved,omitempty"`
	LastRetrievedFull []string `json:"last_retrieved_full,omitempty"`
	MemoryBytes       int64    `json:"memory_bytes"`     // resident memory of the daemon (KV cache and model included)
	StaleTokens       int      `json:"stale_tokens"`     // superseded text in the pack
	OverlayTokens     int      `json:"overlay_tokens"`   // edits not yet folded into the base
	QueuedQuestions   int      `json:"queued_questions"` // waiting for a free engine sequence
	// The last sync of the prefix that prefilled anything: tokens and time.
	LastPrefillTokens int       `json:"last_prefill_tokens"`
	LastPrefillMillis float64   `json:"last_prefill_ms"`
	LastPrefillAt     time.Time `json:"last_prefill_at"` // when it ended: the prefix held the change from then on
	// Engine says where the model runs: "local", or "remote" with the
	// server's URL. LastPromptTokens and LastCachedTokens are the last
	// question's prompt and what of it the engine served from its cache
	// (a remote server's own count: a cache miss shows here).
	Engine           string `json:"engine,omitempty"`
	LastPromptTokens int    `json:"last_prompt_tokens,omitempty"`
	LastCachedTokens int    `json:"last_cached_tokens,omitempty"`
	Buffers          int    `json:"buffers"`  // unsaved editor buffers in the pack
	Sessions         int    `json:"sessions"` // planning sessions kept
	// Segment tokenizations served from the token cache, and computed.
	TokenCacheHits   int64 `json:"token_cache_hits"`
	TokenCacheMisses int64 `json:"token_cache_misses"`
	// The engine's decodes of question tokens since start, and the question
	// steps they held: more steps than decodes means questions shared them.
	BatchDecodes int64 `json:"batch_decodes"`
	BatchSteps   int64 `json:"batch_steps"`
	// Scans of the working tree since start: one per question, whose
	// refresh after a change reuses it, and one per watcher refresh.
	Scans uint64 `json:"scans"`
	// KV snapshots on disk (branches' and sessions'), most recently used first.
	Snapshots []SnapshotInfo `json:"snapshots"`
	// SnapshotDiscarded is the last KV snapshot since start that could not
	// be restored, and why (the prefix was prefilled instead).
	SnapshotDiscarded *SnapshotDiscard `json:"snapshot_discarded,omitempty"`
	// Disk is the state of the file system holding the cache (nil before
	// the cache is open).
	Disk *DiskStatus `json:"disk,omitempty"`
	// IdleSeconds is the time since the last question started or ended (or
	// since the start, before any): what idle_shutdown counts.
	IdleSeconds float64 `json:"idle_seconds"`
}

// DiskStatus says whether the daemon writes its cache (records and KV
// snapshots): it stops, and keeps answering from memory, when the file
// system holding the state folder is nearly full.
type DiskStatus struct {
	Full         bool      `json:"full"`                // the cache is not written to disk
	InMemory     bool      `json:"in_memory,omitempty"` // the disk was full at start: the cache database is in memory
	FreeBytes    int64     `json:"free_bytes"`
	ReserveBytes int64     `json:"reserve_bytes"`     // free bytes the cache needs before it writes
	Since        time.Time `json:"since,omitzero"`    // when it stopped writing
	Dir          string    `json:"dir"`               // the state folder
	Message      string    `json:"message,omitempty"` // what it means, when Full
}

// SnapshotInfo is a KV snapshot on disk.
type SnapshotInfo struct {
	Name     string    `json:"name"`
	Bytes    int64     `json:"bytes"`
	Tokens   int       `json:"tokens"`
	LastUsed time.Time `json:"last_used"`
}

// SnapshotDiscard is a KV snapshot that could not be restored: corrupt,
// truncated, or made with another model or other context settings.
type SnapshotDiscard struct {
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Progress of a prefill: Done of Total tokens of the target prefix.
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// AskParams is one question against the repository.
type AskParams struct {
	Question    string  `json:"question"`
	MaxTokens   int     `json:"max_tokens,omitempty"`
	Temperature float32 `json:"temperature,omitempty"`
	TopP        float32 `json:"top_p,omitempty"`
	TopK        int     `json:"top_k,omitempty"` // 0 = the daemon's default (40), < 0 = no cut
	Seed        uint32  `json:"seed,omitempty"`
	// Session continues the named planning session: earlier turns stay in
	// the context, and this turn is added to its transcript.
	Session string `json:"session,omitempty"`
	// Priority is one of the Priority constants ("" = interactive).
	Priority string `json:"priority,omitempty"`
	// Location is the code the question is about (an editor selection or
	// cursor); its text is placed right before the question.
	Location *Location `json:"location,omitempty"`
	// Stream names this request in its notifications; the client sets it.
	Stream string `json:"stream,omitempty"`
}

// Location is a span of a file. Lines are 1-based and inclusive; 0 means
// the whole file (or, for EndLine, the start line only).
type Location struct {
	Path      string `json:"path"` // absolute, or relative to the repository root
	StartLine int    `json:"start_line,omitempty"`
	EndLine   int    `json:"end_line,omitempty"`
	// Text is the span's text as the editor shows it; when empty the
	// daemon reads it from the pack.
	Text string `json:"text,omitempty"`
}

// BufferParams is an editor buffer's current text.
type BufferParams struct {
	Path string `json:"path"` // absolute, or relative to the repository root
	Text string `json:"text,omitempty"`
}

// CancelParams names the ask to cancel.
type CancelParams struct {
	Stream string `json:"stream"`
}

// SessionParams names a planning session.
type SessionParams struct {
	Name string `json:"name"`
}

// SessionInfo describes a planning session.
type SessionInfo struct {
	Name        string    `json:"name"`
	Turns       int       `json:"turns"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	PackVersion string    `json:"pack_version"` // the pack its last turn was answered on
	KVTokens    int       `json:"kv_tokens"`    // tokens of its saved KV suffix (0: none saved)
}

// Session is a planning session with its transcript.
type Session struct {
	SessionInfo
	Transcript []Turn `json:"transcript"`
}

// Turn is one question and answer of a session.
type Turn struct {
	Question    string    `json:"question"`
	Answer      string    `json:"answer"`
	At          time.Time `json:"at"`
	PackVersion string    `json:"pack_version"`
	Replayed    bool      `json:"replayed,omitempty"` // asked after the repository moved on; earlier turns were replayed
}

// TokenParams carries answer text, whole UTF-8 characters.
type TokenParams struct {
	Stream string `json:"stream"`
	Text   string `json:"text"`
}

// ProgressParams reports prefill progress while a question waits for it.
type ProgressParams struct {
	Stream string `json:"stream"`
	Progress
}

// AskResult ends an answer with its statistics.
type AskResult struct {
	Text            string    `json:"text"`
	TTFTMillis      float64   `json:"ttft_ms"` // from the request to the first answer text
	PromptTokens    int       `json:"prompt_tokens"`
	CachedTokens    int       `json:"cached_tokens"`    // prompt tokens served from the KV cache
	PrefilledTokens int       `json:"prefilled_tokens"` // pack tokens this question had to prefill first
	GeneratedTokens int       `json:"generated_tokens"`
	StopReason      string    `json:"stop_reason"`
	ElapsedMillis   float64   `json:"elapsed_ms"`
	PackVersion     string    `json:"pack_version"`
	Omitted         []Omitted `json:"omitted"`             // files not in full in the pack
	Retrieved       []string  `json:"retrieved,omitempty"` // of those, files retrieved for the question, placed before it (in full, then excerpts)
	// RetrievedFull are the files of Retrieved placed whole: with the
	// files in full in the pack, what the answer saw in full. The others
	// were excerpts (named files too large for the allowance).
	RetrievedFull []string `json:"retrieved_full,omitempty"`
	// RetrievedTokens is what the retrieved files took, and
	// RetrievalAllowance what the question could spend on them: sized by
	// the measured prefill speed and retrieval_latency, within the room
	// the context leaves.
	RetrievedTokens    int     `json:"retrieved_tokens,omitempty"`
	RetrievalAllowance int     `json:"retrieval_allowance,omitempty"`
	QueuedMillis       float64 `json:"queued_ms,omitempty"` // time spent waiting for a free engine sequence
	// Session fields, when the question continued a session.
	Session     string `json:"session,omitempty"`
	SessionTurn int    `json:"session_turn,omitempty"` // 1 for the first turn
	// SessionReplayed says the session's transcript was replayed on top
	// of the current pack instead of reusing its saved KV: the repository
	// changed since its last turn, or its history outgrew the room kept
	// for it (then its newest turns are kept).
	SessionReplayed bool `json:"session_replayed,omitempty"`
	// DiskWarning says that the daemon's cache is not written because the
	// disk is full (the answer is not affected).
	DiskWarning string `json:"disk_warning,omitempty"`
}
