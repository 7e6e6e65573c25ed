package scan

import (
	"bytes"
	"math"
	"path"
	"regexp"
	"strings"
	"sync"
)

// The name-based rule of secret detection (see secrets.go): a random-looking
// literal assigned to a name that ends in a secret word, such as
// password, token or api_key.

// secretNames are the lower-case words that, at the end of a name, make the
// value assigned to it a secret.
var secretNames = []string{"password", "passwd", "passphrase", "secret", "token", "apikey", "api_key", "api-key",
	"access_key", "access-key", "accesskey", "private_key", "private-key", "privatekey", "secret_key", "secretkey"}

// secretRoots are substrings of secretNames; a line holding none of them
// is not looked at further.
var secretRoots = []string{"passw", "passphrase", "secret", "token", "key"}

var (
	secretKey = `([A-Za-z0-9_.-]*(?i:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|secret[_-]?key))`
	// NAME = "value", NAME: 'value', "NAME": "value", NAME := `value`, NAME => "value"
	quotedAssign = regexp.MustCompile(secretKey + `["'\]]?\s*(?::=|=>|=|:)\s*[@rbuf]?["'\x60]([^"'\x60\s]{16,})["'\x60]`)
	// NAME=value and NAME: value in configuration files, optionally after export / ENV.
	bareAssign = regexp.MustCompile(`^\s*(?:export\s+|ENV\s+|set\s+)?` + secretKey + `\s*[:=]\s*([^\s"'\x60#;,]{16,})\s*(?:[#;].*)?$`)
)

var lowerPool = sync.Pool{New: func() any { return new([]byte) }}

// secretAssignment returns the name a random-looking literal is assigned to,
// when the name ends in a secret word; "" when there is none. Quoted values
// count in every file; bare values only in configuration files (.env, .ini,
// .yaml, .properties, shell, Dockerfile, ...), where code cannot be
// mistaken for a value.
func secretAssignment(p string, content []byte) string {
	bp := lowerPool.Get().(*[]byte)
	defer lowerPool.Put(bp)
	lower := append((*bp)[:0], content...)
	for i, c := range lower {
		if c >= 'A' && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	*bp = lower
	bare := isConfigFile(p)
	seen := map[int]bool{} // line starts already checked
	for _, w := range secretRoots {
		for off := 0; ; {
			i := bytes.Index(lower[off:], []byte(w))
			if i < 0 {
				break
			}
			i += off
			off = i + len(w)
			start := bytes.LastIndexByte(content[:i], '\n') + 1
			if seen[start] {
				continue
			}
			seen[start] = true
			end := bytes.IndexByte(content[i:], '\n')
			if end < 0 {
				end = len(content)
			} else {
				end += i
			}
			line := content[start:end]
			if name := assignedSecret(line, bare); name != "" {
				return name
			}
		}
	}
	return ""
}

func assignedSecret(line []byte, bare bool) string {
	line = bytes.TrimSuffix(line, []byte("\r"))
	for _, m := range quotedAssign.FindAllSubmatch(line, -1) {
		if endsWithSecretWord(m[1]) && looksSecret(string(m[1]), string(m[2])) {
			return shortName(m[1])
		}
	}
	if bare {
		if m := bareAssign.FindSubmatch(line); m != nil && endsWithSecretWord(m[1]) && looksSecret(string(m[1]), string(m[2])) {
			return shortName(m[1])
		}
	}
	return ""
}

func endsWithSecretWord(name []byte) bool {
	n := strings.ToLower(string(name))
	for _, w := range secretNames {
		if strings.HasSuffix(n, w) {
			return true
		}
	}
	return false
}

func shortName(name []byte) string {
	s := string(name)
	if len(s) > 64 {
		s = "…" + s[len(s)-63:]
	}
	return s
}

// isConfigFile reports whether bare NAME=value lines in the file are
// values rather than code.
func isConfigFile(p string) bool {
	base := strings.ToLower(path.Base(p))
	if strings.HasPrefix(base, ".env") || strings.HasPrefix(base, "dockerfile") || base == ".envrc" ||
		strings.HasSuffix(base, ".env") {
		return true
	}
	switch path.Ext(base) {
	case ".ini", ".cfg", ".conf", ".properties", ".yaml", ".yml", ".toml", ".sh", ".bash", ".zsh",
		".envrc", ".txt", "":
		return true
	}
	return false
}

// looksSecret reports whether a value v assigned to a secret-looking name is
// a real secret rather than a placeholder, a reference, a word or a name: at
// least secretMinLen bytes, letters and digits, entropy at least
// secretEntropy, and none of the words a name would hold (token, secret,
// password, apikey, auth), nor the name itself.
func looksSecret(name, v string) bool {
	if len(v) < secretMinLen || isPlaceholder(v) {
		return false
	}
	lower := strings.ToLower(v)
	for _, w := range []string{"passw", "secret", "token", "apikey", "api_key", "auth"} {
		if strings.Contains(lower, w) {
			return false
		}
	}
	if strings.Contains(foldName(name), foldName(v)) {
		return false // const FooToken = "foo_token"
	}
	for _, pre := range []string{"http://", "https://", "file:", "env:", "env.", "vault:", "arn:", "projects/",
		"secrets.", "process.env", "os.environ", "os.getenv", "config.", "settings."} {
		if strings.HasPrefix(lower, pre) {
			return false
		}
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") {
		return false
	}
	letter, digit := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		letter = letter || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		digit = digit || c >= '0' && c <= '9'
	}
	if !letter || !digit {
		return false // a word, an identifier, a number
	}
	return shannon(v) >= secretEntropy
}

// foldName lower-cases s and drops separators, so that FooBarToken and
// foo_bar.token compare equal.
func foldName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteByte(c)
		}
	}
	return b.String()
}

// placeholders are substrings (lower case) that mark a value as an example.
var placeholders = []string{"example", "xxxx", "****", "....", "changeme", "change_me", "change-me", "placeholder",
	"dummy", "redacted", "your_", "your-", "yourpassword", "insert", "replace", "sample", "fake", "${", "{{", "<",
	">", "%s", "%(", "$(", "0123456789", "abcdefgh", "12345678"}

func isPlaceholder(v string) bool {
	lower := strings.ToLower(v)
	for _, s := range placeholders {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return strings.HasPrefix(v, "$")
}

func hasLetterAndDigit(s string) bool {
	var l, d bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		l = l || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		d = d || c >= '0' && c <= '9'
	}
	return l && d
}

// shannon is the Shannon entropy of s in bits per byte.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			f := float64(c) / n
			h -= f * math.Log2(f)
		}
	}
	return h
}

// assignmentSpans returns the values that secretAssignment's rule flags in
// content, with their byte ranges.
func assignmentSpans(p string, content []byte) []SecretSpan {
	bare := isConfigFile(p)
	var spans []SecretSpan
	for start := 0; start < len(content); {
		end := bytes.IndexByte(content[start:], '\n')
		if end < 0 {
			end = len(content)
		} else {
			end += start
		}
		line := bytes.TrimSuffix(content[start:end], []byte("\r"))
		if containsRoot(line) {
			for _, m := range quotedAssign.FindAllSubmatchIndex(line, -1) {
				if endsWithSecretWord(line[m[2]:m[3]]) && looksSecret(string(line[m[2]:m[3]]), string(line[m[4]:m[5]])) {
					spans = append(spans, SecretSpan{"high-entropy value assigned to " + shortName(line[m[2]:m[3]]), start + m[4], start + m[5]})
				}
			}
			if bare {
				if m := bareAssign.FindSubmatchIndex(line); m != nil && endsWithSecretWord(line[m[2]:m[3]]) && looksSecret(string(line[m[2]:m[3]]), string(line[m[4]:m[5]])) {
					spans = append(spans, SecretSpan{"high-entropy value assigned to " + shortName(line[m[2]:m[3]]), start + m[4], start + m[5]})
				}
			}
		}
		start = end + 1
	}
	return spans
}

func containsRoot(line []byte) bool {
	lower := bytes.ToLower(line)
	for _, w := range secretRoots {
		if bytes.Contains(lower, []byte(w)) {
			return true
		}
	}
	return false
}
