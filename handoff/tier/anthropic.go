package tier

import (
	"context"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// anthropicProvider speaks the Messages API. The files are their own text
// block with a cache_control breakpoint, the plan a second block after it,
// so that a repair round or a rerun reads the files from the cache.
type anthropicProvider struct{ c *Client }

func (p *anthropicProvider) hostedURL() string { return "https://api.anthropic.com" }

func (p *anthropicProvider) client(extra ...option.RequestOption) anthropic.Client {
	cfg := p.c.cfg
	// The environment defaults would read ANTHROPIC_API_KEY, profiles and
	// ANTHROPIC_BASE_URL behind the settings' back.
	opts := []option.RequestOption{option.WithoutEnvironmentDefaults(), option.WithMaxRetries(cfg.MaxRetries)}
	if p.c.key != "" {
		opts = append(opts, option.WithAPIKey(p.c.key))
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return anthropic.NewClient(append(opts, extra...)...)
}

func (p *anthropicProvider) params(req Request) anthropic.MessageNewParams {
	cfg := p.c.cfg
	files := anthropic.TextBlockParam{Text: req.Files, CacheControl: anthropic.NewCacheControlEphemeralParam()}
	msgs := []anthropic.MessageParam{
		anthropic.NewUserMessage(anthropic.ContentBlockParamUnion{OfText: &files}, anthropic.NewTextBlock(req.Plan)),
	}
	for _, t := range req.Turns {
		if t.Role == "assistant" {
			msgs = append(msgs, anthropic.NewAssistantMessage(anthropic.NewTextBlock(t.Text)))
		} else {
			msgs = append(msgs, anthropic.NewUserMessage(anthropic.NewTextBlock(t.Text)))
		}
	}
	maxTokens := int64(cfg.MaxTokens)
	if maxTokens <= 0 {
		maxTokens = 16384 // the Messages API requires one
	}
	return anthropic.MessageNewParams{
		Model:     cfg.Model,
		MaxTokens: maxTokens,
		System:    []anthropic.TextBlockParam{{Text: req.System}},
		Messages:  msgs,
	}
}

func (p *anthropicProvider) stream(ctx context.Context, req Request, onText func(string)) (Result, error) {
	cl := p.client()
	s := cl.Messages.NewStreaming(ctx, p.params(req))
	defer s.Close()
	var text strings.Builder
	var res Result
	var msg anthropic.Message
	for s.Next() {
		ev := s.Current()
		if err := msg.Accumulate(ev); err != nil {
			return res, err
		}
		if ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta" && ev.Delta.Text != "" {
			text.WriteString(ev.Delta.Text)
			onText(ev.Delta.Text)
		}
	}
	res.Text = text.String()
	u := msg.Usage
	res.Usage = Usage{
		Input:  u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens,
		Cached: u.CacheReadInputTokens,
		Output: u.OutputTokens,
	}
	res.StopReason = string(msg.StopReason)
	if err := s.Err(); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

func (p *anthropicProvider) capture(ctx context.Context, req Request) (*http.Request, []byte, error) {
	var hr *http.Request
	var body []byte
	cl := p.client(option.WithMaxRetries(0), option.WithMiddleware(captureMiddleware(&hr, &body)))
	s := cl.Messages.NewStreaming(ctx, p.params(req))
	for s.Next() {
	}
	s.Close()
	if hr == nil {
		return nil, nil, s.Err()
	}
	return hr, body, nil
}
