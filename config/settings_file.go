package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// FileError is an error in a config file.
type FileError struct {
	Path string
	Line int    // 0 when unknown
	Key  string // "" for a syntax error
	Msg  string
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
		if k == nil && len(key) > 1 {
			// A setting inside a table, such as [tier.large] model.
			if k = lookupKey(strings.Join(key, ".")); k != nil {
				name = k.name
			}
		}
		if k == nil && isTable(strings.Join(key, ".")) {
			if _, ok := lookupRaw(raw, key).(map[string]any); ok {
				continue
			}
			return &FileError{Path: path, Line: keyLine(text, key), Key: key.String(),
				Msg: "is a table of settings; write it as [" + key.String() + "]"}
		}
		if k == nil {
			return &FileError{Path: path, Line: keyLine(text, key), Key: key.String(),
				Msg: "unknown key; valid keys: " + strings.Join(Keys(), ", ")}
		}
		if len(key) > 1 && k.name != strings.Join(key, ".") {
			return &FileError{Path: path, Line: keyLine(text, key), Key: key.String(),
				Msg: fmt.Sprintf("unknown key; %s is not a table", name)}
		}
		v, err := parseTOML(k, lookupRaw(raw, key))
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

// isTable reports whether name is a table of settings ("remote" for
// remote.url, "tier" and "tier.large" for tier.large.model).
func isTable(name string) bool {
	for _, k := range keyDefs {
		if strings.HasPrefix(k.name, name+".") {
			return true
		}
	}
	return false
}

// lookupRaw finds a dotted key's value in decoded TOML.
func lookupRaw(raw map[string]any, key toml.Key) any {
	var v any = raw
	for _, part := range key {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}
