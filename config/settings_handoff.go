package config

import (
	"fmt"
	"strings"
	"time"
)

// HandoffSettings configure the hand-off of code generation to a larger
// tier (`lore generate`): the [tier.large] table of a config file and the
// check command run on the generated edits. They hold the name of the
// variable that holds the API key, never the key: a key in a config file
// would end up in `lore config show`, in backups and in commits.
type HandoffSettings struct {
	Provider     string        // tier.large.provider: openai (any chat-completions API) or anthropic (Messages API)
	BaseURL      string        // tier.large.base_url: "" = the provider's hosted API
	Model        string        // tier.large.model
	APIKeyEnv    string        // tier.large.api_key_env: "" = OPENAI_API_KEY or ANTHROPIC_API_KEY
	MaxTokens    int           // tier.large.max_tokens: the answer's limit
	Timeout      time.Duration // tier.large.timeout: one request, retries included
	EditFormat   string        // tier.large.edit_format: diff (SEARCH/REPLACE blocks) or whole (whole files)
	Redact       []string      // tier.large.redact: extra regular expressions replaced before anything is sent
	Check        string        // check: shell command run on the edits in a scratch worktree ("" = none)
	CheckTimeout time.Duration // check_timeout: the check command's limit
}

// Providers are the valid values of tier.large.provider.
var Providers = []string{"openai", "anthropic"}

// EditFormats are the valid values of tier.large.edit_format.
var EditFormats = []string{"diff", "whole"}

// Defaults of the hand-off settings.
const (
	DefaultTierMaxTokens   = 16384
	DefaultTierTimeout     = 10 * time.Minute
	DefaultCheckTimeout    = 5 * time.Minute
	DefaultOpenAIKeyEnv    = "OPENAI_API_KEY"
	DefaultAnthropicKeyEnv = "ANTHROPIC_API_KEY"
	defaultTierProvider    = "openai"
	defaultTierEditFormat  = "diff"
)

func defaultHandoff() HandoffSettings {
	return HandoffSettings{
		Provider:     defaultTierProvider,
		MaxTokens:    DefaultTierMaxTokens,
		Timeout:      DefaultTierTimeout,
		EditFormat:   defaultTierEditFormat,
		Redact:       []string{},
		CheckTimeout: DefaultCheckTimeout,
	}
}

// KeyEnv is the name of the variable holding the larger tier's API key:
// api_key_env, else the provider's conventional one.
func (h HandoffSettings) KeyEnv() string {
	if h.APIKeyEnv != "" {
		return h.APIKeyEnv
	}
	if h.Provider == "anthropic" {
		return DefaultAnthropicKeyEnv
	}
	return DefaultOpenAIKeyEnv
}

// ValidateHandoff reports settings that make a hand-off impossible, naming the key
// to set and the files it may go in.
func (s *Settings) ValidateHandoff() error {
	h := s.Handoff
	if h.Model == "" {
		return fmt.Errorf("no larger tier configured: set tier.large.model (and tier.large.provider, tier.large.base_url) in %s or %s, under [tier.large]",
			s.RepoFile, s.UserFile)
	}
	if h.BaseURL != "" && !strings.HasPrefix(h.BaseURL, "http://") && !strings.HasPrefix(h.BaseURL, "https://") {
		return fmt.Errorf("tier.large.base_url %q (%s) must start with http:// or https://", h.BaseURL, s.Source("tier.large.base_url"))
	}
	return nil
}

var handoffKeyDefs = []keyDef{
	{name: "tier.large.provider", kind: kEnum, choices: Providers, help: "API of the larger tier: openai (any chat-completions API: hosted, vLLM, llama-server, Ollama) or anthropic (Messages API)", field: func(s *Settings) any { return &s.Handoff.Provider }},
	{name: "tier.large.base_url", kind: kString, help: "the larger tier's API root (empty: the provider's hosted API)", field: func(s *Settings) any { return &s.Handoff.BaseURL }},
	{name: "tier.large.model", kind: kString, help: "the larger tier's model name", field: func(s *Settings) any { return &s.Handoff.Model }},
	{name: "tier.large.api_key_env", kind: kString, help: "name of the environment variable holding the API key (empty: OPENAI_API_KEY or ANTHROPIC_API_KEY)", field: func(s *Settings) any { return &s.Handoff.APIKeyEnv }},
	{name: "tier.large.max_tokens", kind: kCount, help: "most tokens the larger tier may answer with", field: func(s *Settings) any { return &s.Handoff.MaxTokens }},
	{name: "tier.large.timeout", kind: kDuration, help: "limit of one request to the larger tier, its retries included (0: none)", field: func(s *Settings) any { return &s.Handoff.Timeout }},
	{name: "tier.large.edit_format", kind: kEnum, choices: EditFormats, help: "how the larger tier writes edits: diff (SEARCH/REPLACE blocks) or whole (whole files)", field: func(s *Settings) any { return &s.Handoff.EditFormat }},
	{name: "tier.large.redact", kind: kList, help: "regular expressions replaced by placeholders in everything sent to the larger tier, on top of the secret detectors", field: func(s *Settings) any { return &s.Handoff.Redact }},
	{name: "check", kind: kString, help: "shell command run on generated edits in a scratch worktree, e.g. \"go build ./...\" (empty: none)", field: func(s *Settings) any { return &s.Handoff.Check }},
	{name: "check_timeout", kind: kDuration, help: "limit of the check command (0: none)", field: func(s *Settings) any { return &s.Handoff.CheckTimeout }},
}

func init() { keyDefs = append(keyDefs, handoffKeyDefs...) }
