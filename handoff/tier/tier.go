// Package tier talks to the larger tier of a hand-off: an OpenAI-compatible
// chat-completions API (hosted, vLLM, SGLang, llama.cpp's server, Ollama) or
// Anthropic's Messages API, through the providers' official SDKs, which do
// the wire format, the streaming and the retries with backoff.
//
// A request is laid out files first and plan last: the repository map and
// the files (Request.Files) are one stable leading part, so a repair round
// or a rerun repeats the same prefix and hits the provider's prompt cache
// (Anthropic: an explicit cache_control breakpoint after that part; OpenAI
// caches long prefixes on its own).
//
// The API key is read from the environment variable the settings name and
// goes only into the authentication header: errors, dry-run output and
// every other text this package returns show it as ***.
package tier

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Turn is one message after the first user message: the larger tier's
// answer ("assistant") or a repair note ("user").
type Turn struct {
	Role string // "user" or "assistant"
	Text string
}

// Request is one call to the larger tier.
type Request struct {
	System string // instructions: the edit format
	Files  string // the repository map and the files: the first, cached part of the first user message
	Plan   string // the plan and the goal: the last part of the first user message
	Turns  []Turn // later turns (repair rounds), alternating assistant and user
}

// Usage counts the tokens of one call, as the provider reports them.
type Usage struct {
	Input  int64 `json:"input_tokens"`  // prompt tokens, cached ones included
	Cached int64 `json:"cached_tokens"` // prompt tokens read from the provider's cache
	Output int64 `json:"output_tokens"`
}

// Add sums usages over calls.
func (u *Usage) Add(o Usage) {
	u.Input += o.Input
	u.Cached += o.Cached
	u.Output += o.Output
}

// Result is a finished answer.
type Result struct {
	Text       string
	Usage      Usage
	StopReason string // "stop", "length" / "max_tokens", ...
}

// Config selects and tunes the provider (config.HandoffSettings, resolved).
type Config struct {
	Provider   string // "openai" or "anthropic"
	BaseURL    string // "" = the provider's hosted API
	Model      string
	KeyEnv     string // name of the variable holding the key
	MaxTokens  int
	Timeout    time.Duration // one call with its retries; 0 = none
	MaxRetries int           // retries on 429, 5xx and dropped connections (the SDKs back off exponentially and honour Retry-After)
	// Getenv reads the key variable (os.Getenv when nil).
	Getenv func(string) string
	// HTTPClient, when set, carries the requests (tests add nothing here;
	// it exists so a caller can set proxies).
	HTTPClient *http.Client
}

// DefaultMaxRetries is the retries of one call before an error is reported.
const DefaultMaxRetries = 3

// Client is a configured larger tier.
type Client struct {
	cfg Config
	key string
	p   provider
}

type provider interface {
	stream(ctx context.Context, req Request, onText func(string)) (Result, error)
	// capture runs the SDK up to the wire and returns the HTTP request it
	// would send, without sending it.
	capture(ctx context.Context, req Request) (*http.Request, []byte, error)
	hostedURL() string
}

// New checks the configuration and reads the key. A missing key variable
// is an error naming it, except for a base_url on this machine (a local
// vLLM, llama-server or Ollama needs no key).
func New(cfg Config) (*Client, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = osGetenv
	}
	if cfg.Model == "" {
		return nil, fmt.Errorf("tier.large.model is not set: name the larger tier's model under [tier.large] in .lore/config.toml or the user config file")
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	c := &Client{cfg: cfg, key: strings.TrimSpace(cfg.Getenv(cfg.KeyEnv))}
	switch cfg.Provider {
	case "openai", "":
		c.p = &openaiProvider{c: c}
	case "anthropic":
		c.p = &anthropicProvider{c: c}
	default:
		return nil, fmt.Errorf("tier.large.provider %q is not supported; want \"openai\" or \"anthropic\"", cfg.Provider)
	}
	if c.key == "" && !localURL(cfg.BaseURL) {
		return nil, fmt.Errorf("the API key variable %s is not set: export %s=<your %s key>, or set tier.large.api_key_env to the variable that holds it",
			cfg.KeyEnv, cfg.KeyEnv, c.providerName())
	}
	return c, nil
}

// URL is the API root the client talks to.
func (c *Client) URL() string {
	if c.cfg.BaseURL != "" {
		return c.cfg.BaseURL
	}
	return c.p.hostedURL()
}

// Model is the configured model.
func (c *Client) Model() string { return c.cfg.Model }

func (c *Client) providerName() string {
	if c.cfg.Provider == "anthropic" {
		return "Anthropic"
	}
	return "OpenAI-compatible"
}

// Stream sends req and streams the answer's text to onText (which may be
// nil) as it arrives. Errors are *Error values with a message naming the
// fix.
func (c *Client) Stream(ctx context.Context, req Request, onText func(string)) (Result, error) {
	if c.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	if onText == nil {
		onText = func(string) {}
	}
	res, err := c.p.stream(ctx, req, onText)
	if err != nil {
		return res, c.mapError(ctx, err)
	}
	return res, nil
}

// DryRun returns the HTTP request Stream would send, as text: the method
// and URL, the headers (credentials as ***) and the JSON body, indented.
func (c *Client) DryRun(ctx context.Context, req Request) (string, error) {
	hr, body, err := c.p.capture(ctx, req)
	if err != nil {
		return "", c.scrubErr(err)
	}
	return c.scrub(formatRequest(hr, body)), nil
}

func localURL(base string) bool {
	if base == "" {
		return false
	}
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
