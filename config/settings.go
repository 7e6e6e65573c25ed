package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"lore/ingest/layout"
)

// Settings are lore's effective settings: the defaults, overridden by the
// user's config file, then the repository's, then the environment, then the
// command-line flags (SetFlag). Each value remembers where it came from
// (Source).
type Settings struct {
	Model            string        // model: GGUF model file
	LlamaLib         string        // llama_lib: folder of the llama.cpp libraries ("" = auto-detect)
	Context          int           // context: context size in tokens (0 = the model's, capped)
	Threads          int           // threads: CPU threads (0 = all cores)
	GPULayers        int           // gpu_layers: layers offloaded by a GPU build
	FlashAttention   bool          // flash_attention
	KVCacheType      string        // kv_cache_type: f16, q8_0 or q4_0
	MoECPUExperts    bool          // moe_cpu_experts: keep expert tensors on the CPU
	OverlayMax       float64       // overlay_max: fraction of the pack the edit overlay may hold
	WarmMax          float64       // warm_max: fraction the warm tier (with the overlay) may hold
	StaleMax         float64       // stale_max: fraction of stale text before part of the cold base is rebuilt
	SnapshotBudget   int64         // snapshot_budget: bytes of KV snapshots kept, least recently used evicted first (0 = no limit)
	IdleShutdown     time.Duration // idle_shutdown: stop the daemon after this long idle (0 = never)
	MaxFileSize      int64         // max_file_size: files larger than this are left out of the pack
	Exclude          []string      // exclude: gitignore patterns left out of the pack
	IncludeVendored  bool          // include_vendored: keep vendored folders in the pack
	IncludeGenerated bool          // include_generated: keep generated files in the pack

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
	{name: "idle_shutdown", kind: kDuration, help: "stop the daemon after this long without questions (0: never)", field: func(s *Settings) any { return &s.IdleShutdown }},
	{name: "max_file_size", kind: kSize, help: "files larger than this are left out of the pack", field: func(s *Settings) any { return &s.MaxFileSize }},
	{name: "exclude", kind: kList, help: "gitignore patterns left out of the pack", field: func(s *Settings) any { return &s.Exclude }},
	{name: "include_vendored", kind: kBool, help: "keep vendored folders (vendor/, node_modules/, ...) in the pack", field: func(s *Settings) any { return &s.IncludeVendored }},
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
		Model:          DefaultModelPath(),
		KVCacheType:    "f16",
		OverlayMax:     layout.DefaultPolicy.OverlayMax,
		WarmMax:        layout.DefaultPolicy.WarmMax,
		StaleMax:       layout.DefaultPolicy.StaleMax,
		MaxFileSize:    1 << 20,
		Exclude:        []string{},
		sources:        map[string]string{},
		UserFile:       UserConfigPath(),
		IdleShutdown:   0,
		SnapshotBudget: DefaultSnapshotBudget,
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

func reflectValue(p any) any {
	switch p := p.(type) {
	case *string:
		return *p
	case *int:
		return *p
	case *int64:
		return *p
	case *bool:
		return *p
	case *float64:
		return *p
	case *time.Duration:
		return *p
	case *[]string:
		if *p == nil {
			return []string{}
		}
		return slices.Clone(*p)
	}
	panic(fmt.Sprintf("config: unexpected field type %T", p))
}

func formatText(k *keyDef, v any) string {
	switch k.kind {
	case kSize:
		if f := FormatSize(v.(int64)); strings.HasSuffix(f, "B") {
			return strconv.Quote(f)
		}
		return strconv.FormatInt(v.(int64), 10)
	case kDuration:
		return strconv.Quote(formatDuration(v.(time.Duration)))
	case kString, kPath, kEnum:
		return strconv.Quote(v.(string))
	case kList:
		q := make([]string, 0, len(v.([]string)))
		for _, p := range v.([]string) {
			q = append(q, strconv.Quote(p))
		}
		return "[" + strings.Join(q, ", ") + "]"
	case kFraction:
		return strconv.FormatFloat(v.(float64), 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
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

// FileError is an error in a config file.
type FileError struct {
	Path string
	Line int    // 0 when unknown
	Key  string // "" for a syntax error
	Msg  string
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

func (s *Settings) loadFile(path, label, base string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", label, err)
	}
	text := string(data)
	var raw map[string]any
	md, err := toml.Decode(text, &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return &FileError{Path: path, Line: pe.Position.Line, Msg: pe.Message}
		}
		return &FileError{Path: path, Msg: err.Error()}
	}
	// Report keys in file order so that the first error is the first one
	// a reader meets.
	for _, key := range md.Keys() {
		name := key[0]
		k := lookupKey(name)
		if k == nil {
			return &FileError{Path: path, Line: keyLine(text, key), Key: key.String(),
				Msg: "unknown key; valid keys: " + strings.Join(Keys(), ", ")}
		}
		if len(key) > 1 {
			return &FileError{Path: path, Line: keyLine(text, key), Key: key.String(),
				Msg: fmt.Sprintf("unknown key; %s is not a table", name)}
		}
		v, err := parseTOML(k, raw[name])
		if err != nil {
			return &FileError{Path: path, Line: keyLine(text, key), Key: name, Msg: err.Error()}
		}
		if k.kind == kPath {
			v = resolvePath(v.(string), base)
		}
		src := label + " " + path
		if line := keyLine(text, key); line > 0 {
			src += ":" + strconv.Itoa(line)
		}
		s.set(k, v, src)
	}
	return nil
}

// resolvePath expands a leading ~/ and makes a relative path absolute
// against base (the repository's root for the repo file, the user config
// folder for the user file).
func resolvePath(p, base string) string {
	if p == "" {
		return p
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return p
}

// keyLine finds the line (1-based) where a key is defined in TOML text: the
// last element of key as a bare or quoted key before "=", or as a table
// header. 0 when not found.
func keyLine(text string, key toml.Key) int {
	last := regexp.QuoteMeta(key[len(key)-1])
	name := `(?:` + last + `|"` + last + `"|'` + last + `')`
	dotted, header := "", ""
	if len(key) > 1 {
		dotted, header = `(?:[^=\n]*\.)?[ \t]*`, `(?:[^\]\n]*\.)?`
	}
	patterns := []string{
		`(?m)^[ \t]*` + dotted + name + `[ \t]*=`,
		`(?m)^[ \t]*\[\[?[ \t]*` + header + name + `[ \t]*\]`,
	}
	best := -1
	for _, p := range patterns {
		if loc := regexp.MustCompile(p).FindStringIndex(text); loc != nil && (best < 0 || loc[0] < best) {
			best = loc[0]
		}
	}
	if best < 0 {
		return 0
	}
	return strings.Count(text[:best], "\n") + 1
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("%T", v)
}

// expected describes the valid values of a key.
func expected(k *keyDef) string {
	switch k.kind {
	case kString, kPath:
		return "a string"
	case kCount:
		return "an integer >= 0"
	case kBool:
		return "true or false"
	case kEnum:
		return "one of " + quoteList(k.choices)
	case kFraction:
		return "a fraction between 0 and 1"
	case kSize:
		return `a size in bytes, as an integer or a string like "512KiB", "1MiB", "4GiB"`
	case kDuration:
		return `a duration like "90s", "30m", "2h", or "0" for never`
	case kList:
		return "an array of strings"
	}
	return "?"
}

func quoteList(c []string) string {
	q := make([]string, len(c))
	for i, s := range c {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// parseTOML converts a decoded TOML value to the key's Go value.
func parseTOML(k *keyDef, v any) (any, error) {
	bad := func() error {
		return fmt.Errorf("%s is %s; want %s", formatRaw(v), tomlType(v), expected(k))
	}
	switch k.kind {
	case kString, kPath:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kCount:
		if n, ok := v.(int64); ok {
			return checkCount(k, n)
		}
	case kBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kEnum, kDuration:
		if s, ok := v.(string); ok {
			return parseString(k, s)
		}
		if n, ok := v.(int64); ok && k.kind == kDuration && n == 0 {
			return time.Duration(0), nil
		}
	case kFraction:
		switch n := v.(type) {
		case float64:
			return checkFraction(n)
		case int64:
			return checkFraction(float64(n))
		}
	case kSize:
		switch n := v.(type) {
		case int64:
			if n < 0 {
				return nil, fmt.Errorf("%d is negative; want %s", n, expected(k))
			}
			return n, nil
		case string:
			return parseString(k, n)
		}
	case kList:
		if a, ok := v.([]any); ok {
			out := make([]string, 0, len(a))
			for _, e := range a {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("element %s is %s; want %s", formatRaw(e), tomlType(e), expected(k))
				}
				out = append(out, s)
			}
			return out, nil
		}
	}
	return nil, bad()
}

func formatRaw(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	if _, ok := v.(map[string]any); ok {
		return "the value"
	}
	return fmt.Sprint(v)
}

// parseString parses a value given as text (environment, flag, or a string
// in a file).
func parseString(k *keyDef, s string) (any, error) {
	switch k.kind {
	case kString, kPath:
		return s, nil
	case kCount:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer; want %s", s, expected(k))
		}
		return checkCount(k, n)
	case kBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a boolean; want %s", s, expected(k))
		}
		return b, nil
	case kEnum:
		if slices.Contains(k.choices, s) {
			return s, nil
		}
		return nil, fmt.Errorf("%q is not valid; want %s", s, expected(k))
	case kFraction:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number; want %s", s, expected(k))
		}
		return checkFraction(f)
	case kSize:
		n, err := ParseSize(s)
		if err != nil {
			return nil, fmt.Errorf("%v; want %s", err, expected(k))
		}
		return n, nil
	case kDuration:
		d, err := ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%v; want %s", err, expected(k))
		}
		return d, nil
	case kList:
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		if out == nil {
			out = []string{}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported setting")
}

func checkCount(k *keyDef, n int64) (any, error) {
	if n < 0 {
		return nil, fmt.Errorf("%d is negative; want %s", n, expected(k))
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%d is too large; want %s", n, expected(k))
	}
	return n, nil
}

func checkFraction(f float64) (any, error) {
	if math.IsNaN(f) || f < 0 || f > 1 {
		return nil, fmt.Errorf("%v is out of range; want a fraction between 0 and 1", f)
	}
	return f, nil
}

// ParseDuration parses a duration like "90s", "30m" or "2h"; "0" (or "",
// "never", "off") means zero, i.e. never. Negative durations are errors.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "", "0", "never", "off":
		return 0, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

var sizeRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)[ \t]*([a-zA-Z]*)$`)

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// ParseSize parses a byte count: a plain integer, or a number with a unit,
// binary (KiB, MiB, GiB, TiB, or K, M, G, T) or decimal (KB, MB, GB, TB);
// units are case-insensitive. "1.5GiB" is allowed; the result is rounded
// down to whole bytes.
func ParseSize(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)", s, m[2])
	}
	if !strings.Contains(m[1], ".") {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil && (n == 0 || int64(unit) <= math.MaxInt64/n) {
			return n * int64(unit), nil
		}
		return 0, fmt.Errorf("%q is too large", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	b := f * unit
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(b), nil
}

// FormatSize writes a byte count in the largest binary unit that divides it
// exactly ("4GiB", "1536KiB", "1000").
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
