package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Settings are lore's effective settings: the defaults, overridden by the
// user's config file, then the repository's, then the environment, then the
// command-line flags (SetFlag). Each value remembers where it came from
// (Source).
type Settings struct {
	Model            string          // model: GGUF model file
	LlamaLib         string          // llama_lib: folder of the llama.cpp libraries ("" = auto-detect)
	Context          int             // context: context size in tokens (0 = the model's, capped)
	Threads          int             // threads: CPU threads (0 = all cores)
	GPULayers        int             // gpu_layers: layers offloaded by a GPU build
	FlashAttention   bool            // flash_attention
	KVCacheType      string          // kv_cache_type: f16, q8_0 or q4_0
	MoECPUExperts    bool            // moe_cpu_experts: keep expert tensors on the CPU
	OverlayMax       float64         // overlay_max: fraction of the pack the edit overlay may hold
	WarmMax          float64         // warm_max: fraction the warm tier (with the overlay) may hold
	StaleMax         float64         // stale_max: fraction of stale text before part of the cold base is rebuilt
	SnapshotBudget   int64           // snapshot_budget: bytes of KV snapshots kept, least recently used evicted first (0 = no limit)
	IdleShutdown     time.Duration   // idle_shutdown: stop the daemon after this long idle (0 = never)
	MaxFileSize      int64           // max_file_size: files larger than this are left out of the pack
	Exclude          []string        // exclude: gitignore patterns left out of the pack
	IncludeVendored  bool            // include_vendored: keep vendored folders in the pack
	IncludeGenerated bool            // include_generated: keep generated files in the pack
	HookTimeout      time.Duration   // hook_timeout: the commit-message hook's hard deadline (0 = no drafts)
	CommitStyle      string          // commit_style: plain or conventional
	HookStartDaemon  bool            // hook_start_daemon: a hook that finds no daemon starts one for next time
	RetrievalLatency time.Duration   // retrieval_latency: first-token time the files retrieved per question may cost (0 = all the room)
	MemoryLimit      int64           // memory_limit: bytes the model's weights and KV cache may take (0 = the available memory)
	MemoryCheck      bool            // memory_check: refuse to load a model whose weights and KV cache do not fit
	Handoff          HandoffSettings // [tier.large], check, check_timeout: the hand-off to a larger tier (settings_handoff.go)

	// The engine: where the model runs (settings_remote.go).
	Engine string         // engine: local or remote
	Remote RemoteSettings // remote.*: the remote engine's server

	// UserFile and RepoFile are the config files consulted (they need not exist).
	UserFile, RepoFile string

	sources map[string]string
}

// Sources of a value, as returned by Source (file and env sources carry
// details: "user file PATH:LINE", "repo file PATH:LINE", "env LORE_X",
// "flag --x").
const (
	SourceDefault = "default"
)

// Value is one effective setting, for display.
type Value struct {
	Key    string `json:"key"`
	Value  any    `json:"value"`  // string, int, int64 (bytes), bool, float64, []string; durations as strings
	Text   string `json:"text"`   // the value as a config file would spell it
	Source string `json:"source"` // "default", "user file PATH:LINE", "repo file PATH:LINE", "env LORE_X", "flag --x"
}

type kind int

const (
	kString kind = iota
	kPath        // a string; relative paths in a file resolve against it
	kCount       // integer >= 0
	kBool
	kEnum
	kFraction // float in [0, 1]
	kSize     // bytes: integer or "4GiB"
	kDuration // "30m"; "0" = never
	kList     // array of strings
)

type keyDef struct {
	name    string
	kind    kind
	env     string   // environment variable, if any
	flag    string   // command-line flag name (without dashes), if any
	choices []string // for kEnum
	help    string
	field   func(s *Settings) any // pointer to the field
}

// CommitStyles are the valid values of commit_style (api's Style names).
var CommitStyles = []string{"plain", "conventional"}

// DefaultHookTimeout is hook_timeout's default: long enough for a draft on
// a warm daemon, short enough that a commit never feels stuck.
const DefaultHookTimeout = 5 * time.Second

// DefaultRetrievalLatency is retrieval_latency's default: the prefill time
// the files retrieved for one question may add before its first token.
// Two seconds keeps a question on a 2-core CPU interactive while a GPU,
// prefilling thousands of tokens a second, still fills the whole room.
const DefaultRetrievalLatency = 2 * time.Second

// DefaultIdleShutdown is idle_shutdown's default. An idle daemon holds the
// model's memory (gigabytes for a real model); after half an hour without
// questions it stops, and the next question restarts it from the KV snapshot
// it saved, so the cost of a restart is loading the model, not a prefill.
// ollama unloads its models after minutes for the same reason.
const DefaultIdleShutdown = 30 * time.Minute

// KVCacheTypes are the valid values of kv_cache_type.
var KVCacheTypes = []string{"f16", "q8_0", "q4_0"}

var keyDefs = []keyDef{
	{name: "model", kind: kPath, env: EnvModel, flag: "model", help: "GGUF model file", field: func(s *Settings) any { return &s.Model }},
	{name: "llama_lib", kind: kPath, env: EnvLlamaLib, flag: "llama-lib", help: "folder holding the llama.cpp libraries (empty: auto-detect)", field: func(s *Settings) any { return &s.LlamaLib }},
	{name: "context", kind: kCount, env: EnvContext, flag: "ctx", help: "context size in tokens (0: the model's, capped at 131072)", field: func(s *Settings) any { return &s.Context }},
	{name: "threads", kind: kCount, env: EnvThreads, flag: "threads", help: "CPU threads (0: all cores)", field: func(s *Settings) any { return &s.Threads }},
	{name: "gpu_layers", kind: kCount, env: EnvGPULayers, flag: "gpu-layers", help: "layers offloaded by a GPU build", field: func(s *Settings) any { return &s.GPULayers }},
	{name: "flash_attention", kind: kBool, flag: "flash-attention", help: "flash attention", field: func(s *Settings) any { return &s.FlashAttention }},
	{name: "kv_cache_type", kind: kEnum, choices: KVCacheTypes, flag: "kv-cache-type", help: "KV cache element type", field: func(s *Settings) any { return &s.KVCacheType }},
	{name: "moe_cpu_experts", kind: kBool, flag: "moe-cpu-experts", help: "keep MoE expert tensors on the CPU", field: func(s *Settings) any { return &s.MoECPUExperts }},
	{name: "overlay_max", kind: kFraction, help: "fraction of the pack the edit overlay may hold", field: func(s *Settings) any { return &s.OverlayMax }},
	{name: "warm_max", kind: kFraction, help: "fraction of the pack the warm tier and overlay may hold", field: func(s *Settings) any { return &s.WarmMax }},
	{name: "stale_max", kind: kFraction, help: "fraction of stale text before the cold base is partly rebuilt", field: func(s *Settings) any { return &s.StaleMax }},
	{name: "snapshot_budget", kind: kSize, help: "bytes of KV snapshots (one per branch, one per planning session) kept on disk; the least recently used go first (0: no limit)", field: func(s *Settings) any { return &s.SnapshotBudget }},
	{name: "idle_shutdown", kind: kDuration, help: "stop the daemon after this long without questions (0: never; a restart resumes from the KV snapshot)", field: func(s *Settings) any { return &s.IdleShutdown }},
	{name: "max_file_size", kind: kSize, help: "files larger than this are left out of the pack", field: func(s *Settings) any { return &s.MaxFileSize }},
	{name: "exclude", kind: kList, help: "gitignore patterns left out of the pack", field: func(s *Settings) any { return &s.Exclude }},
	{name: "include_vendored", kind: kBool, help: "keep vendored folders (vendor/, node_modules/, ...) in the pack", field: func(s *Settings) any { return &s.IncludeVendored }},
	{name: "hook_timeout", kind: kDuration, help: "hard deadline of the prepare-commit-msg hook's draft: connecting, queueing and generating (0: no drafts)", field: func(s *Settings) any { return &s.HookTimeout }},
	{name: "commit_style", kind: kEnum, choices: CommitStyles, help: "style of drafted commit messages", field: func(s *Settings) any { return &s.CommitStyle }},
	{name: "hook_start_daemon", kind: kBool, help: "a git hook that finds no daemon starts one in the background, for the next commit", field: func(s *Settings) any { return &s.HookStartDaemon }},
	{name: "retrieval_latency", kind: kDuration, help: "prefill time the files retrieved for one question may add before its first token, at the measured prefill speed (0: always the whole room)", field: func(s *Settings) any { return &s.RetrievalLatency }},
	{name: "memory_limit", kind: kSize, env: EnvMemoryLimit, flag: "memory-limit", help: "memory the model's weights, KV cache and a 1 GiB reserve may take before it loads (0: the available memory, MemAvailable)", field: func(s *Settings) any { return &s.MemoryLimit }},
	{name: "memory_check", kind: kBool, flag: "memory-check", help: "check before loading that the model's weights and KV cache fit in memory_limit (false: load anyway)", field: func(s *Settings) any { return &s.MemoryCheck }},
	{name: "include_generated", kind: kBool, help: "keep generated files (lock files, minified code, ...) in the pack", field: func(s *Settings) any { return &s.IncludeGenerated }},
}

func lookupKey(name string) *keyDef {
	for i := range keyDefs {
		if keyDefs[i].name == name {
			return &keyDefs[i]
		}
	}
	return nil
}

// Keys returns the names of all settings, in display order.
func Keys() []string {
	out := make([]string, len(keyDefs))
	for i, k := range keyDefs {
		out[i] = k.name
	}
	return out
}

// FlagKey returns the setting set by a command-line flag (e.g. "ctx" ->
// "context"), or "" when the flag is no setting.
func FlagKey(flag string) string {
	flag = strings.TrimLeft(flag, "-")
	for _, k := range keyDefs {
		if k.flag == flag {
			return k.name
		}
	}
	return ""
}

// Defaults returns the built-in settings, each with source "default".
func Defaults() *Settings {
	s := &Settings{
		Model:            DefaultModelPath(),
		KVCacheType:      "f16",
		OverlayMax:       DefaultOverlayMax,
		WarmMax:          DefaultWarmMax,
		StaleMax:         DefaultStaleMax,
		MaxFileSize:      1 << 20,
		Exclude:          []string{},
		sources:          map[string]string{},
		UserFile:         UserConfigPath(),
		IdleShutdown:     DefaultIdleShutdown,
		SnapshotBudget:   DefaultSnapshotBudget,
		HookTimeout:      DefaultHookTimeout,
		RetrievalLatency: DefaultRetrievalLatency,
		CommitStyle:      "plain",
		MemoryCheck:      true,
		Handoff:          defaultHandoff(),
		Engine:           EngineLocal,
		Remote:           RemoteSettings{Protocol: ProtocolLlama},
	}
	for _, k := range keyDefs {
		s.sources[k.name] = SourceDefault
	}
	return s
}

// UserConfigPath is the per-user config file: $XDG_CONFIG_HOME/lore/config.toml,
// else ~/.config/lore/config.toml.
func UserConfigPath() string {
	if v := os.Getenv("XDG_CONFIG_HOME"); v != "" {
		return filepath.Join(v, "lore", "config.toml")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "lore", "config.toml")
}

// RepoConfigPath is the per-repository config file, .lore/config.toml in the
// repository's root.
func RepoConfigPath(root string) string {
	return filepath.Join(root, ".lore", "config.toml")
}

// The defaults of overlay_max, warm_max and stale_max, the tunable part of
// the pack's layout policy. ingest/layout.DefaultPolicy is built from them, so
// they live in one place, here, where clients that must not link ingest (ask,
// the LSP bridge) can still load the settings. They keep stale text under 10%
// of the pack even right after a large commit, and were tuned with
// `lore bench freshness` (see BENCHMARKS.md).
const (
	DefaultOverlayMax = 0.04
	DefaultWarmMax    = 0.15
	DefaultStaleMax   = 0.09
)

// DefaultSnapshotBudget bounds the KV snapshots on disk unless configured.
const DefaultSnapshotBudget = 20_000_000_000

// Load returns the effective settings for the repository at repoRoot ("" for
// none): defaults < user file < repo file < environment. Flags are applied
// afterwards with SetFlag. Missing files are fine; an unreadable file, a
// TOML syntax error, an unknown key or a bad value is an error naming the
// file, the line and the key.
func Load(repoRoot string) (*Settings, error) {
	s := Defaults()
	if s.UserFile != "" {
		if err := s.loadFile(s.UserFile, "user file", filepath.Dir(s.UserFile)); err != nil {
			return nil, err
		}
	}
	if repoRoot != "" {
		s.RepoFile = RepoConfigPath(repoRoot)
		if err := s.loadFile(s.RepoFile, "repo file", repoRoot); err != nil {
			return nil, err
		}
	}
	if err := s.loadEnv(); err != nil {
		return nil, err
	}
	return s, nil
}

// Source tells where the value of key came from ("" for an unknown key).
func (s *Settings) Source(key string) string { return s.sources[key] }

// SetFlag overrides a setting from a command-line flag. key is the
// setting's name ("context") or its flag's ("ctx", "--ctx"); value is parsed
// as the environment's would be. The source becomes "flag --NAME".
func (s *Settings) SetFlag(key, value string) error {
	k := lookupKey(key)
	if k == nil {
		if name := FlagKey(key); name != "" {
			k = lookupKey(name)
		}
	}
	if k == nil {
		return fmt.Errorf("unknown setting %q; valid settings: %s", key, strings.Join(Keys(), ", "))
	}
	flag := k.flag
	if flag == "" {
		flag = strings.ReplaceAll(k.name, "_", "-")
	}
	src := "flag --" + flag
	v, err := parseString(k, value)
	if err != nil {
		return fmt.Errorf("%s: %s", src, err)
	}
	s.set(k, v, src)
	return nil
}

// Values returns every effective setting with its source, in display order.
func (s *Settings) Values() []Value {
	out := make([]Value, 0, len(keyDefs))
	for i := range keyDefs {
		k := &keyDefs[i]
		v := reflectValue(k.field(s))
		val := v
		if d, ok := v.(time.Duration); ok {
			val = formatDuration(d)
		}
		out = append(out, Value{Key: k.name, Value: val, Text: formatText(k, v), Source: s.sources[k.name]})
	}
	return out
}

// set stores a parsed value (of the kind's Go type) and its source.
func (s *Settings) set(k *keyDef, v any, src string) {
	switch p := k.field(s).(type) {
	case *string:
		*p = v.(string)
	case *int:
		*p = int(v.(int64))
	case *int64:
		*p = v.(int64)
	case *bool:
		*p = v.(bool)
	case *float64:
		*p = v.(float64)
	case *time.Duration:
		*p = v.(time.Duration)
	case *[]string:
		*p = v.([]string)
	}
	s.sources[k.name] = src
}

func (s *Settings) loadEnv() error {
	for i := range keyDefs {
		k := &keyDefs[i]
		if k.env == "" {
			continue
		}
		raw := strings.TrimSpace(os.Getenv(k.env))
		if raw == "" {
			continue
		}
		v, err := parseString(k, raw)
		if err != nil {
			return fmt.Errorf("%s=%q: %s", k.env, raw, err)
		}
		s.set(k, v, "env "+k.env)
	}
	return nil
}

func (e *FileError) Error() string {
	loc := e.Path
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Key == "" {
		return loc + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
}
