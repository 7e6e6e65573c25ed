package tier

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
)

// ErrorKind classifies a failed call.
type ErrorKind string

// The kinds of Error.
const (
	ErrAuth          ErrorKind = "auth"           // 401, 403
	ErrRateLimited   ErrorKind = "rate_limited"   // 429 after the retries
	ErrServer        ErrorKind = "server"         // 5xx after the retries
	ErrContextLength ErrorKind = "context_length" // the request is longer than the model's context
	ErrRefused       ErrorKind = "connection"     // connection refused, unknown host
	ErrTimeout       ErrorKind = "timeout"        // tier.large.timeout passed
	ErrCanceled      ErrorKind = "canceled"       // the caller cancelled (Ctrl-C)
	ErrRequest       ErrorKind = "request"        // any other refusal of the request
)

// Error is a failed call, its message naming the fix. It never holds the
// key.
type Error struct {
	Kind   ErrorKind
	Status int    // HTTP status, 0 without a response
	Server string // the provider's own message, key scrubbed, when it sent one
	msg    string
}

func (e *Error) Error() string { return e.msg }

// providerStatus extracts the HTTP status and message of an SDK error.
func providerStatus(err error) (int, string, bool) {
	var oe *openai.Error
	if errors.As(err, &oe) {
		return oe.StatusCode, oe.Message, true
	}
	var ae *anthropic.Error
	if errors.As(err, &ae) {
		return ae.StatusCode, ae.Message, true
	}
	return 0, "", false
}

var contextLengthWords = []string{"context length", "context_length", "context window", "prompt is too long",
	"too many tokens", "maximum context", "exceeds the context", "input is too long", "reduce the length"}

// IsContextLength reports whether a provider's message says the request is
// longer than the model's context.
func IsContextLength(msg string) bool {
	m := strings.ToLower(msg)
	for _, w := range contextLengthWords {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

func (c *Client) mapError(ctx context.Context, err error) error {
	url := c.URL()
	if status, server, ok := providerStatus(err); ok {
		server = c.scrub(strings.TrimSpace(server))
		if len(server) > 400 {
			server = server[:400] + "..."
		}
		e := &Error{Status: status, Server: server}
		switch {
		case status == 401 || status == 403:
			e.Kind = ErrAuth
			// The provider's message is left out: some echo part of the key.
			e.msg = fmt.Sprintf("the larger tier at %s refused the key in %s (HTTP %d): put a valid %s key in %s, or point tier.large.api_key_env at the variable that holds one",
				url, c.cfg.KeyEnv, status, c.providerName(), c.cfg.KeyEnv)
			e.Server = ""
		case status == 429:
			e.Kind = ErrRateLimited
			e.msg = fmt.Sprintf("the larger tier at %s is rate limiting (HTTP 429) after %d retries with backoff: wait a minute and rerun, or raise the account's limits%s",
				url, c.cfg.MaxRetries, serverSays(server))
		case status >= 500:
			e.Kind = ErrServer
			e.msg = fmt.Sprintf("the larger tier at %s failed (HTTP %d) after %d retries with backoff: rerun later, or check the server%s",
				url, status, c.cfg.MaxRetries, serverSays(server))
		case (status == 400 || status == 413 || status == 422) && IsContextLength(server):
			e.Kind = ErrContextLength
			e.msg = fmt.Sprintf("the request is longer than %s's context (HTTP %d)%s", c.cfg.Model, status, serverSays(server))
		case status == 404:
			e.Kind = ErrRequest
			e.msg = fmt.Sprintf("the larger tier at %s has no such endpoint or model %q (HTTP 404): check tier.large.base_url (an OpenAI-compatible server's usually ends in /v1) and tier.large.model%s",
				url, c.cfg.Model, serverSays(server))
		default:
			e.Kind = ErrRequest
			e.msg = fmt.Sprintf("the larger tier at %s refused the request (HTTP %d)%s", url, status, serverSays(server))
		}
		return e
	}
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return &Error{Kind: ErrCanceled, msg: "interrupted while the larger tier was answering; nothing was written"}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Kind: ErrTimeout, msg: fmt.Sprintf("the larger tier at %s did not finish within tier.large.timeout (%s): raise tier.large.timeout, or ask for less (a smaller plan)",
			url, c.cfg.Timeout)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Kind: ErrRefused, msg: fmt.Sprintf("cannot connect to the larger tier at %s (connection refused): start the server, or fix tier.large.base_url", url)}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &Error{Kind: ErrRefused, msg: fmt.Sprintf("cannot resolve the larger tier's host %q: check tier.large.base_url and the network", dnsErr.Name)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Error{Kind: ErrTimeout, msg: fmt.Sprintf("the connection to the larger tier at %s timed out: check the network, or raise tier.large.timeout", url)}
	}
	return &Error{Kind: ErrRequest, msg: fmt.Sprintf("the call to the larger tier at %s failed: %s", url, c.scrub(err.Error()))}
}

func serverSays(s string) string {
	if s == "" {
		return ""
	}
	return "; the server says: " + s
}
