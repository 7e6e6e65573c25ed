// Package remote is the engine that runs prefill and decode on a server
// instead of in the daemon's process: llama.cpp's server (llama-server),
// with the repository's prefix kept in a slot of its own, or any
// OpenAI-compatible server (vLLM, SGLang, hosted APIs) with the pack sent
// as a stable text prefix that its prefix cache reuses.
//
// Everything else stays in the daemon: it builds the pack and lays it out,
// and this engine only moves tokens. It tokenizes with the model's own
// vocabulary, loaded locally without the weights, so the token layout the
// daemon computes (segment boundaries, the overlay after the prefix) is the
// one the server caches: an edit costs the edited file's tokens, as it does
// in process.
package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"lore/config"
	"lore/engine"
)

// Config selects the server and what the engine sends it.
type Config struct {
	URL      string // base URL, e.g. http://127.0.0.1:8080
	APIKey   string // sent as a bearer token ("" = none)
	Protocol string // config.ProtocolLlama (default), ProtocolCompletions or ProtocolChat
	Model    string // the model name an OpenAI-compatible server wants ("" = none sent)
	// Slot is the llama-server slot this repository uses; < 0 picks one
	// from Key among the server's slots.
	Slot int
	// Key names the repository (its root path, say): it picks the slot
	// and names the slot's save file on the server.
	Key string
	// Local names the GGUF file the server runs (a local copy, read for
	// its vocabulary and metadata only) and the llama.cpp libraries;
	// its ContextSize caps the context lore lays the pack out for
	// (0 = the server slot's).
	Local engine.Config
	// Timeout bounds each request that is no answer (status, slot saves,
	// restores); 0 = DefaultTimeout. Answers and prefills are bounded by
	// the caller's context.
	Timeout time.Duration
	Logger  *slog.Logger
}

// DefaultTimeout bounds a request that answers at once (props, slots).
const DefaultTimeout = 30 * time.Second

// SettingsConfig is the remote engine's part of the settings: key is the
// repository's root. The API key is read from the variable api_key_env
// names; a variable named but unset is an error, not an anonymous request.
func SettingsConfig(s *config.Settings, key string) (Config, error) {
	cfg := Config{
		URL:      s.Remote.URL,
		Protocol: s.Remote.Protocol,
		Model:    s.Remote.Model,
		Slot:     -1,
		Key:      key,
		Local:    engine.SettingsConfig(s),
	}
	if cfg.URL == "" {
		return cfg, errors.New(`engine = "remote" needs the server's URL: set remote.url in [remote] (or LORE_REMOTE_URL), e.g. http://127.0.0.1:8080`)
	}
	if name := s.Remote.APIKeyEnv; name != "" {
		cfg.APIKey = os.Getenv(name)
		if cfg.APIKey == "" {
			return cfg, fmt.Errorf("remote.api_key_env names %s, which is not set: export it with the remote engine's API key", name)
		}
	}
	if v := strings.TrimSpace(s.Remote.Slot); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cfg, fmt.Errorf("remote.slot %q is not a slot number (0, 1, ...): leave it empty to pick one from the repository's path", v)
		}
		cfg.Slot = n
	}
	return cfg, nil
}

// Engine is a remote engine: an engine.Backend whose prefill and decode
// run on a server.
type Engine struct {
	cfg    Config
	client *http.Client
	vocab  *engine.Vocab
	info   engine.ModelInfo
	log    *slog.Logger
	proto  protocol

	mu      sync.Mutex
	prefix  []engine.Token // what the server's cache is meant to hold before every question
	running int
	closed  bool
}

// protocol is what differs between llama-server and OpenAI-compatible
// servers.
type protocol interface {
	// sync makes the server's cache hold tokens (text: their text).
	sync(ctx context.Context, tokens []engine.Token, progress engine.Progress) (engine.SyncStats, error)
	generate(ctx context.Context, prefix []engine.Token, req engine.GenerateRequest, emit engine.Emit) (engine.GenerateStats, error)
	save(name string, prefix []engine.Token) ([]byte, error)
	load(state []byte, tokens []engine.Token) error
}

// Open checks that a server answers at cfg.URL and runs the model cfg.Local
// names, and returns an engine that uses it. A server that does not answer
// is an error naming the URL; one that runs another model is refused.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Protocol == "" {
		cfg.Protocol = config.ProtocolLlama
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("remote.url %q is no http:// or https:// URL", cfg.URL)
	}
	vocab, err := engine.OpenVocab(cfg.Local.LibDir, cfg.Local.ModelPath)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, client: &http.Client{}, vocab: vocab, info: vocab.Info(), log: cfg.Logger}
	switch cfg.Protocol {
	case config.ProtocolLlama:
		p, err := openLlama(ctx, e)
		if err != nil {
			vocab.Close()
			return nil, err
		}
		e.proto = p
	case config.ProtocolCompletions, config.ProtocolChat:
		p, err := openOpenAI(ctx, e)
		if err != nil {
			vocab.Close()
			return nil, err
		}
		e.proto = p
	default:
		vocab.Close()
		return nil, fmt.Errorf("remote.protocol %q is not one of %s", cfg.Protocol, strings.Join(config.RemoteProtocols, ", "))
	}
	return e, nil
}

var _ engine.Backend = (*Engine)(nil)

// Info describes the model; ContextSize is the context lore lays out for.
func (e *Engine) Info() engine.ModelInfo { return e.info }

// Settings returns the local configuration with KVType "remote": a KV
// snapshot made in process is never taken for a slot reference, nor the
// other way round.
func (e *Engine) Settings() engine.Config {
	c := e.cfg.Local
	c.ContextSize = e.info.ContextSize
	c.KVType = "remote"
	c.FlashAttention = false
	return c
}

// Tokenize uses the model's vocabulary, as the server does.
func (e *Engine) Tokenize(text string) []engine.Token { return e.vocab.Tokenize(text) }

// BOS is the model's.
func (e *Engine) BOS() (engine.Token, bool) { return e.vocab.BOS() }

// TokenizerFingerprint is the model file's, as in process: token arrays
// cached by either engine serve the other.
func (e *Engine) TokenizerFingerprint() string { return e.info.Fingerprint }

// PrefixLen is the length of the prefix last synced.
func (e *Engine) PrefixLen() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.prefix)
}

// Holds reports whether the prefix last synced is tokens. The server may
// have lost it since (a restart); the next question finds out and
// restores its save, or re-prefills, and reports what it cached.
func (e *Engine) Holds(tokens []engine.Token) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slicesEqual(e.prefix, tokens)
}

// Sync makes the server's cache hold tokens: the server keeps the longest
// common start it holds and prefills the rest.
func (e *Engine) Sync(ctx context.Context, tokens []engine.Token, progress engine.Progress) (engine.SyncStats, error) {
	if len(tokens) > e.info.ContextSize-1 {
		return engine.SyncStats{}, fmt.Errorf("prefix of %d tokens does not fit the context of %d", len(tokens), e.info.ContextSize)
	}
	if err := e.check(); err != nil {
		return engine.SyncStats{}, err
	}
	// Held already (restored, or synced before): nothing to send. Were
	// the server to have lost it since, the next question restores it.
	if e.Holds(tokens) {
		return engine.SyncStats{Reused: len(tokens)}, nil
	}
	st, err := e.proto.sync(ctx, tokens, progress)
	if err != nil {
		return st, err
	}
	e.mu.Lock()
	e.prefix = append([]engine.Token(nil), tokens...)
	e.mu.Unlock()
	return st, nil
}

// Truncate forgets all but the first n tokens of the prefix; the server
// keeps what it holds until the next request overwrites it.
func (e *Engine) Truncate(n int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n < len(e.prefix) {
		e.prefix = e.prefix[:n]
	}
	return nil
}

// SaveStateAs saves the server's slot (llama-server with --slot-save-path)
// and returns a reference to the save, not the KV itself. Where the
// server cannot save, it returns no tokens: nothing to keep.
func (e *Engine) SaveStateAs(name string) ([]byte, []engine.Token, error) {
	if err := e.check(); err != nil {
		return nil, nil, err
	}
	e.mu.Lock()
	prefix := append([]engine.Token(nil), e.prefix...)
	e.mu.Unlock()
	if len(prefix) == 0 {
		return nil, nil, nil
	}
	state, err := e.proto.save(name, prefix)
	if err != nil || state == nil {
		return nil, nil, err
	}
	return state, prefix, nil
}

// LoadState restores a save SaveStateAs referenced into the server's slot.
func (e *Engine) LoadState(state []byte, tokens []engine.Token) error {
	if err := e.check(); err != nil {
		return err
	}
	if len(tokens) > e.info.ContextSize-1 {
		return fmt.Errorf("snapshot holds %d tokens, more than the context of %d", len(tokens), e.info.ContextSize)
	}
	e.mu.Lock()
	e.prefix = nil
	e.mu.Unlock()
	if err := e.proto.load(state, tokens); err != nil {
		return err
	}
	e.mu.Lock()
	e.prefix = append([]engine.Token(nil), tokens...)
	e.mu.Unlock()
	return nil
}

// Generate answers req after the prefix. Cached tokens are what the
// server reused (timings.cache_n, usage.prompt_tokens_details.cached_tokens),
// so a cache miss shows.
func (e *Engine) Generate(ctx context.Context, req engine.GenerateRequest, emit engine.Emit) (engine.GenerateStats, error) {
	if len(req.Prompt) == 0 {
		return engine.GenerateStats{}, errors.New("empty prompt")
	}
	if req.MaxTokens <= 0 {
		req.MaxTokens = 256
	}
	if err := e.check(); err != nil {
		return engine.GenerateStats{}, err
	}
	e.mu.Lock()
	prefix := e.prefix
	e.running++
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.running--
		e.mu.Unlock()
	}()
	return e.proto.generate(ctx, prefix, req, emit)
}

// Queue reports the questions being answered; the server queues them.
func (e *Engine) Queue() (running, waiting int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running, 0
}

// BatchStats is empty: the server batches.
func (e *Engine) BatchStats() engine.BatchStats { return engine.BatchStats{} }

// Close frees the vocabulary; the server keeps running.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return e.vocab.Close()
}

func (e *Engine) check() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return engine.ErrClosed
	}
	return nil
}

// ServerError is an HTTP error reply of the server.
type ServerError struct {
	URL     string
	Status  int
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("the server at %s answered %d: %s", e.URL, e.Status, e.Message)
}

// idempotent reports whether a POST to path may be sent twice: tokenizing,
// and saving or restoring a slot (the same file each time). A completion
// may not: it would run twice.
func idempotent(path string) bool {
	return strings.HasPrefix(path, "/slots/") || path == "/tokenize" || path == "/detokenize"
}

// do sends a JSON request and returns the response (the caller closes its
// body). A server that does not answer is an error naming the URL.
func (e *Engine) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, e.cfg.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.cfg.APIKey)
	}
	if method == http.MethodPost && idempotent(path) {
		// The server may close a kept-alive connection just as it is
		// reused (a slot save then fails with EOF): marked idempotent
		// (the key is not sent), the request is retried on a new one.
		req.Header["Idempotency-Key"] = nil
	}
	resp, err := e.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("the remote engine at %s does not answer (is the server running and the URL right? remote.url): %w", e.cfg.URL, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		msg := strings.TrimSpace(string(b))
		var ej struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &ej) == nil && ej.Error.Message != "" {
			msg = ej.Error.Message
		}
		return nil, &ServerError{URL: e.cfg.URL + path, Status: resp.StatusCode, Message: msg}
	}
	return resp, nil
}

// getJSON fetches path into out within the engine's timeout.
func (e *Engine) getJSON(ctx context.Context, path string, out any) error {
	return e.callJSON(ctx, http.MethodGet, path, nil, out)
}

func (e *Engine) callJSON(ctx context.Context, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	resp, err := e.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading %s%s: %w", e.cfg.URL, path, err)
	}
	return nil
}

// keyHash names the repository on the server without revealing its path.
func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:8])
}

// detokenize is the text of tokens, BOS left out: the OpenAI-compatible
// protocols send text, and the server adds its own BOS.
func (e *Engine) detokenize(toks []engine.Token) string {
	var b strings.Builder
	bos, hasBOS := e.vocab.BOS()
	for i, t := range toks {
		if i == 0 && hasBOS && t == bos {
			continue
		}
		b.Write(e.vocab.Piece(t))
	}
	return b.String()
}

func slicesEqual(a, b []engine.Token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
