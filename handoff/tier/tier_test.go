package tier_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"lore/handoff/tier"
	"lore/handoff/tier/tiertest"
)

const key = "sk-test-0123456789abcdefKEY"

func env(name string) func(string) string {
	return func(v string) string {
		if v == name {
			return key
		}
		return ""
	}
}

func request() tier.Request {
	return tier.Request{System: "write edits", Files: "FILES: main.go", Plan: "PLAN: rename x"}
}

func newClient(t *testing.T, provider, url string) *tier.Client {
	t.Helper()
	c, err := tier.New(tier.Config{Provider: provider, BaseURL: url, Model: "big", KeyEnv: "TIER_KEY", MaxTokens: 1000,
		Timeout: time.Minute, Getenv: env("TIER_KEY")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStreamBothProviders(t *testing.T) {
	answer := strings.Repeat("SEARCH/REPLACE block text ", 10)
	for _, provider := range []string{"openai", "anthropic"} {
		t.Run(provider, func(t *testing.T) {
			var srv *tiertest.Server
			reply := tiertest.Reply{Text: answer, Input: 1200, Cached: 1000, Output: 60}
			if provider == "openai" {
				srv = tiertest.OpenAI(t, reply)
			} else {
				srv = tiertest.Anthropic(t, reply)
			}
			c := newClient(t, provider, srv.URL)
			var streamed strings.Builder
			res, err := c.Stream(context.Background(), request(), func(s string) { streamed.WriteString(s) })
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != answer || streamed.String() != answer {
				t.Errorf("text %q, streamed %q", res.Text, streamed.String())
			}
			if res.Usage != (tier.Usage{Input: 1200, Cached: 1000, Output: 60}) {
				t.Errorf("usage %+v", res.Usage)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			body := string(reqs[0].Body)
			if fi, pi := strings.Index(body, "FILES: main.go"), strings.Index(body, "PLAN: rename x"); fi < 0 || pi < fi {
				t.Errorf("files must come before the plan: %s", body)
			}
			if strings.Contains(body, key) {
				t.Error("the key is in the body")
			}
			if provider == "anthropic" {
				if h := reqs[0].Header; h.Get("X-Api-Key") != key && h.Get("Authorization") != "Bearer "+key {
					t.Errorf("no key in the auth headers: %v", h)
				}
				var parsed struct {
					Messages []struct {
						Content []struct {
							Text         string          `json:"text"`
							CacheControl json.RawMessage `json:"cache_control"`
						} `json:"content"`
					} `json:"messages"`
				}
				if err := json.Unmarshal(reqs[0].Body, &parsed); err != nil {
					t.Fatal(err)
				}
				parts := parsed.Messages[0].Content
				if len(parts) != 2 || parts[0].Text != "FILES: main.go" || !strings.Contains(string(parts[0].CacheControl), "ephemeral") ||
					parts[1].CacheControl != nil {
					t.Errorf("want the files part cached and the plan after it: %s", body)
				}
			} else if reqs[0].Header.Get("Authorization") != "Bearer "+key {
				t.Errorf("authorization header %q", reqs[0].Header.Get("Authorization"))
			}
		})
	}
}

func TestRetry429ThenSuccess(t *testing.T) {
	for _, provider := range []string{"openai", "anthropic"} {
		t.Run(provider, func(t *testing.T) {
			replies := []tiertest.Reply{{Status: 429, Error: "slow down"}, {Status: 503, Error: "busy"}, {Text: "done", Input: 5, Output: 1}}
			var srv *tiertest.Server
			if provider == "openai" {
				srv = tiertest.OpenAI(t, replies...)
			} else {
				srv = tiertest.Anthropic(t, replies...)
			}
			res, err := newClient(t, provider, srv.URL).Stream(context.Background(), request(), nil)
			if err != nil || res.Text != "done" {
				t.Fatalf("res %q err %v", res.Text, err)
			}
			if n := len(srv.Requests()); n != 3 {
				t.Errorf("%d requests, want 3 (two retries)", n)
			}
		})
	}
}

func TestErrorsNameTheFix(t *testing.T) {
	cases := []struct {
		reply tiertest.Reply
		kind  tier.ErrorKind
		want  string
	}{
		{tiertest.Reply{Status: 401, Error: "Incorrect API key provided: " + key}, tier.ErrAuth, "TIER_KEY"},
		{tiertest.Reply{Status: 403, Error: "forbidden"}, tier.ErrAuth, "tier.large.api_key_env"},
		{tiertest.Reply{Status: 400, Error: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens"}, tier.ErrContextLength, "context"},
	}
	for _, provider := range []string{"openai", "anthropic"} {
		for _, tc := range cases {
			var srv *tiertest.Server
			if provider == "openai" {
				srv = tiertest.OpenAI(t, tc.reply)
			} else {
				srv = tiertest.Anthropic(t, tc.reply)
			}
			_, err := newClient(t, provider, srv.URL).Stream(context.Background(), request(), nil)
			var te *tier.Error
			if !errors.As(err, &te) || te.Kind != tc.kind || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %d: err %v, want kind %s naming %q", provider, tc.reply.Status, err, tc.kind, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Errorf("%s: the error shows the key: %v", provider, err)
			}
		}
	}
	// 5xx that persists past the retries.
	srv := tiertest.OpenAI(t, tiertest.Reply{Status: 500}, tiertest.Reply{Status: 500}, tiertest.Reply{Status: 500}, tiertest.Reply{Status: 500})
	_, err := newClient(t, "openai", srv.URL).Stream(context.Background(), request(), nil)
	var te *tier.Error
	if !errors.As(err, &te) || te.Kind != tier.ErrServer || !strings.Contains(err.Error(), "after 3 retries") {
		t.Errorf("persistent 500: %v", err)
	}
}

func TestMissingKeyAndRefusedConnection(t *testing.T) {
	_, err := tier.New(tier.Config{Provider: "anthropic", BaseURL: "https://llm.example.org", Model: "m", KeyEnv: "NO_SUCH_KEY_VAR",
		Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "NO_SUCH_KEY_VAR") {
		t.Errorf("missing key: %v", err)
	}
	// A closed loopback port: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := tier.New(tier.Config{Provider: "openai", BaseURL: "http://" + addr + "/v1", Model: "m", KeyEnv: "NO_SUCH_KEY_VAR",
		MaxRetries: -1, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("a loopback server needs no key: %v", err)
	}
	_, err = c.Stream(context.Background(), request(), nil)
	var te *tier.Error
	if !errors.As(err, &te) || te.Kind != tier.ErrRefused || !strings.Contains(err.Error(), "tier.large.base_url") {
		t.Errorf("refused: %v", err)
	}
}

func TestCancelMidStream(t *testing.T) {
	for _, provider := range []string{"openai", "anthropic"} {
		hold := make(chan struct{})
		reply := tiertest.Reply{Text: strings.Repeat("x", 400), Hold: hold}
		var srv *tiertest.Server
		if provider == "openai" {
			srv = tiertest.OpenAI(t, reply)
		} else {
			srv = tiertest.Anthropic(t, reply)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-hold; cancel() }()
		_, err := newClient(t, provider, srv.URL).Stream(ctx, request(), nil)
		var te *tier.Error
		if !errors.As(err, &te) || te.Kind != tier.ErrCanceled || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("%s: cancel: %v", provider, err)
		}
		cancel()
	}
}

func TestDryRunMasksKey(t *testing.T) {
	for _, provider := range []string{"openai", "anthropic"} {
		srv := tiertest.OpenAI(t)
		c := newClient(t, provider, srv.URL)
		out, err := c.DryRun(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, key) || !strings.Contains(out, "***") || !strings.Contains(out, "PLAN: rename x") ||
			!strings.HasPrefix(out, "POST "+srv.URL) {
			t.Errorf("%s dry run:\n%s", provider, out)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%s: a dry run sent %d requests", provider, n)
		}
	}
}

func TestTimeoutNamesTheSetting(t *testing.T) {
	hold := make(chan struct{})
	srv := tiertest.OpenAI(t, tiertest.Reply{Text: strings.Repeat("y", 400), Hold: hold})
	c, err := tier.New(tier.Config{Provider: "openai", BaseURL: srv.URL, Model: "big", KeyEnv: "TIER_KEY",
		Timeout: 300 * time.Millisecond, Getenv: env("TIER_KEY")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Stream(context.Background(), request(), nil)
	var te *tier.Error
	if !errors.As(err, &te) || te.Kind != tier.ErrTimeout || !strings.Contains(err.Error(), "tier.large.timeout") {
		t.Errorf("timeout: %v", err)
	}
}
