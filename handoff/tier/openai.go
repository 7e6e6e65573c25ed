package tier

import (
	"context"
	"net/http"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// openaiProvider speaks chat completions. The files and the plan go in one
// user message (files first): hosted OpenAI caches a repeated prefix on its
// own, and one string is what every compatible server accepts.
type openaiProvider struct{ c *Client }

func (p *openaiProvider) hostedURL() string { return "https://api.openai.com/v1" }

func (p *openaiProvider) client(extra ...option.RequestOption) openai.Client {
	cfg := p.c.cfg
	opts := []option.RequestOption{option.WithMaxRetries(cfg.MaxRetries)}
	if p.c.key != "" {
		opts = append(opts, option.WithAPIKey(p.c.key))
	} else {
		opts = append(opts, option.WithHeaderDel("Authorization"))
	}
	// The SDK's environment defaults (OPENAI_BASE_URL, OPENAI_ORG_ID,
	// OPENAI_PROJECT_ID) must not send this request elsewhere, or tell a
	// third-party server the user's OpenAI organization.
	opts = append(opts, option.WithBaseURL(p.c.URL()))
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithHeaderDel("OpenAI-Organization"), option.WithHeaderDel("OpenAI-Project"))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return openai.NewClient(append(opts, extra...)...)
}

func (p *openaiProvider) params(req Request) openai.ChatCompletionNewParams {
	cfg := p.c.cfg
	msgs := []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage(req.System),
		openai.UserMessage(req.Files + "\n\n" + req.Plan),
	}
	for _, t := range req.Turns {
		if t.Role == "assistant" {
			msgs = append(msgs, openai.AssistantMessage(t.Text))
		} else {
			msgs = append(msgs, openai.UserMessage(t.Text))
		}
	}
	params := openai.ChatCompletionNewParams{
		Model:         cfg.Model,
		Messages:      msgs,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if cfg.MaxTokens > 0 {
		// Hosted OpenAI wants max_completion_tokens (its reasoning models
		// refuse max_tokens); compatible servers know max_tokens.
		if cfg.BaseURL == "" {
			params.MaxCompletionTokens = openai.Int(int64(cfg.MaxTokens))
		} else {
			params.MaxTokens = openai.Int(int64(cfg.MaxTokens))
		}
	}
	return params
}

func (p *openaiProvider) stream(ctx context.Context, req Request, onText func(string)) (Result, error) {
	cl := p.client()
	s := cl.Chat.Completions.NewStreaming(ctx, p.params(req))
	defer s.Close()
	var text strings.Builder
	var res Result
	for s.Next() {
		ch := s.Current()
		if len(ch.Choices) > 0 {
			if d := ch.Choices[0].Delta.Content; d != "" {
				text.WriteString(d)
				onText(d)
			}
			if fr := ch.Choices[0].FinishReason; fr != "" {
				res.StopReason = fr
			}
		}
		if u := ch.Usage; u.PromptTokens > 0 || u.CompletionTokens > 0 {
			res.Usage = Usage{Input: u.PromptTokens, Cached: u.PromptTokensDetails.CachedTokens, Output: u.CompletionTokens}
		}
	}
	res.Text = text.String()
	if err := s.Err(); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

func (p *openaiProvider) capture(ctx context.Context, req Request) (*http.Request, []byte, error) {
	var hr *http.Request
	var body []byte
	cl := p.client(option.WithMaxRetries(0), option.WithMiddleware(captureMiddleware(&hr, &body)))
	s := cl.Chat.Completions.NewStreaming(ctx, p.params(req))
	for s.Next() {
	}
	s.Close()
	if hr == nil {
		return nil, nil, s.Err()
	}
	return hr, body, nil
}
