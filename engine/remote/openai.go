package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"lore/config"
	"lore/engine"
)

// openai speaks the OpenAI-compatible protocol of vLLM, SGLang, hosted
// APIs (and llama-server's /v1 endpoints): the pack goes as a text prefix
// that stays the same from question to question, so the server's own
// prefix cache (vLLM's automatic prefix caching, SGLang's RadixAttention)
// reuses it; the question follows. It reads what was reused from
// usage.prompt_tokens_details.cached_tokens, which vLLM reports with
// --enable-prompt-tokens-details and SGLang with --enable-cache-report.
// There are no slots to save: persistence is the server's (LMCache for
// vLLM, HiCache storage for SGLang).
type openai struct {
	e    *Engine
	chat bool
}

// DefaultOpenAIContext is the context lore lays the pack out for on an
// OpenAI-compatible server when the local settings name none: such
// servers do not say theirs.
const DefaultOpenAIContext = 32768

func openOpenAI(ctx context.Context, e *Engine) (*openai, error) {
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := e.getJSON(ctx, "/v1/models", &models); err != nil {
		return nil, err
	}
	if e.cfg.Model == "" && len(models.Data) > 0 {
		e.cfg.Model = models.Data[0].ID
	}
	e.info.ContextSize = e.cfg.Local.ContextSize
	if e.info.ContextSize <= 0 {
		e.info.ContextSize = min(max(e.info.TrainContext, 0), DefaultOpenAIContext)
		if e.info.ContextSize == 0 {
			e.info.ContextSize = DefaultOpenAIContext
		}
	}
	e.log.Info("remote engine (OpenAI-compatible)", "url", e.cfg.URL, "protocol", e.cfg.Protocol, "model", e.cfg.Model, "context", e.info.ContextSize)
	return &openai{e: e, chat: e.cfg.Protocol == config.ProtocolChat}, nil
}

type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

type oaChunk struct {
	Choices []struct {
		Text  string `json:"text"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
}

// body is the request for prefix (the pack's text) and question.
func (o *openai) body(prefix, question string, maxTokens int, req engine.GenerateRequest) map[string]any {
	b := map[string]any{
		"max_tokens":     maxTokens,
		"temperature":    req.Temperature,
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
	}
	if req.Temperature > 0 && req.TopP > 0 {
		b["top_p"] = req.TopP
	}
	if req.Seed != 0 {
		b["seed"] = req.Seed
	}
	if o.e.cfg.Model != "" {
		b["model"] = o.e.cfg.Model
	}
	if o.chat {
		msgs := []map[string]string{{"role": "system", "content": prefix}}
		if question != "" {
			msgs = append(msgs, map[string]string{"role": "user", "content": question})
		}
		b["messages"] = msgs
	} else {
		b["prompt"] = prefix + question
	}
	return b
}

func (o *openai) path() string {
	if o.chat {
		return "/v1/chat/completions"
	}
	return "/v1/completions"
}

// stream sends one request and streams its text to emit.
func (o *openai) stream(ctx context.Context, body map[string]any, emit func(string) error) (*usage, string, error) {
	resp, err := o.e.do(ctx, http.MethodPost, o.path(), body)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var u *usage
	finish := ""
	err = readEvents(resp.Body, func(data []byte) (bool, error) {
		var c oaChunk
		if err := json.Unmarshal(data, &c); err != nil {
			return false, fmt.Errorf("reading the answer of %s: %w", o.e.cfg.URL, err)
		}
		if c.Usage != nil {
			u = c.Usage
		}
		for _, ch := range c.Choices {
			text := ch.Text
			if o.chat {
				text = ch.Delta.Content
			}
			if text != "" {
				if err := emit(text); err != nil {
					return false, err
				}
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
		return false, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		var ee emitError
		if errors.As(err, &ee) {
			return nil, "", ee.err
		}
		return nil, "", fmt.Errorf("the server at %s stopped answering mid-request (lore goes on once it is back): %w", o.e.cfg.URL, err)
	}
	return u, finish, nil
}

type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }

// sync sends the prefix alone (one token to generate), so that the
// server caches it before the first question.
func (o *openai) sync(ctx context.Context, tokens []engine.Token, progress engine.Progress) (engine.SyncStats, error) {
	start := time.Now()
	u, _, err := o.stream(ctx, o.body(o.e.detokenize(tokens), "", 1, engine.GenerateRequest{}), func(string) error { return nil })
	if err != nil {
		return engine.SyncStats{}, err
	}
	st := engine.SyncStats{Elapsed: time.Since(start)}
	if u != nil {
		st.Prefilled = u.PromptTokens
		if u.PromptTokensDetails != nil {
			st.Reused = u.PromptTokensDetails.CachedTokens
			st.Prefilled -= st.Reused
		}
	}
	if progress != nil {
		progress(len(tokens), len(tokens))
	}
	return st, nil
}

func (o *openai) generate(ctx context.Context, prefix []engine.Token, req engine.GenerateRequest, emit engine.Emit) (engine.GenerateStats, error) {
	start := time.Now()
	st := engine.GenerateStats{}
	var emitErr error
	u, finish, err := o.stream(ctx, o.body(o.e.detokenize(prefix), o.e.detokenize(req.Prompt), req.MaxTokens, req), func(s string) error {
		if st.TTFT == 0 {
			st.TTFT = time.Since(start)
		}
		if err := emit(s); err != nil {
			emitErr = err
			return emitError{err}
		}
		return nil
	})
	st.Elapsed = time.Since(start)
	if emitErr != nil {
		st.StopReason = "cancelled"
		return st, emitErr
	}
	if err != nil {
		return st, err
	}
	st.PromptTokens = len(prefix) + len(req.Prompt)
	if u != nil {
		// The server's counts: its template and tokenizer may differ
		// from the local vocabulary's.
		st.PromptTokens = u.PromptTokens
		st.GeneratedTokens = u.CompletionTokens
		if u.PromptTokensDetails != nil {
			st.CachedTokens = u.PromptTokensDetails.CachedTokens
		}
	}
	switch finish {
	case "stop":
		st.StopReason = "eog"
	default:
		st.StopReason = "max_tokens"
	}
	return st, nil
}

func (o *openai) save(string, []engine.Token) ([]byte, error) { return nil, nil }

func (o *openai) load([]byte, []engine.Token) error {
	return errors.New("an OpenAI-compatible server keeps no slot saves: the prefix is sent again")
}
