package scan

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Secret detection. A file that holds a credential never goes into a pack,
// whatever the options say; the scan reports it as "secret: KIND".
//
// Two kinds of evidence count:
//
//   - the file's name (secretFileKind): key files and key stores (*.key,
//     *.p12, *.pfx, *.jks, *.keystore, *.p8, *.kdbx), SSH private keys
//     (id_rsa*, id_dsa*, id_ecdsa*, id_ed25519*, not *.pub), .env and .env.*
//     (but not .env.example, .env.sample, .env.template), .netrc, .pgpass,
//     .git-credentials, .htpasswd, credentials.json, Terraform state; *.pem
//     unless its content is only public PEM blocks (certificates, public
//     keys: CA bundles and test certificates stay in the pack); .npmrc and
//     .pypirc only when they hold a token or password.
//   - the content (secretContentKind): PEM private key blocks with a body,
//     AWS access key ids and secret access keys, GCP service-account JSON,
//     GitHub, Slack, Stripe, Google API, OpenAI-style and Anthropic keys,
//     Slack webhooks, signed JWTs; then the 200-odd token formats of
//     gitleaks' maintained rule set (gitleaks.go: GitLab, npm, Twilio,
//     SendGrid, Hugging Face, Databricks, ... tokens); then high-entropy
//     literals assigned to names such as password, secret, token or api_key.
//
// False positives are kept low by demanding each token's real shape and
// length, and for the name-based assignment rule a value that looks random:
// length >= 16, Shannon entropy >= 3.5 bits per byte, letters and digits,
// none of the words a name holds (token, secret, ...), not the name itself,
// no placeholder. That rule takes quoted literals anywhere and bare
// NAME=value only in configuration files (.env, .ini, .yaml, .toml,
// .properties, shell, Dockerfile), and it is not applied to test code and
// test data (*_test.go, testdata/, tests/, fixtures/, ...), where test
// vectors named "secret" or "token" abound. Values that contain "EXAMPLE"
// (AWS's documented AKIAIOSFODNN7EXAMPLE and
// wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY), "xxxx", "changeme", "${VAR}",
// "<token>", "your_..." and the like are placeholders and not flagged; code
// that reads a secret (os.Getenv, process.env, ...) has no literal and is
// not flagged. A well-formed private key or token in a test fixture IS
// flagged, tests included: nothing tells a fake key from a leaked one, and a
// fixture is little loss to the pack.

// secretEntropy is the minimum Shannon entropy, in bits per byte, of a value
// assigned to a secret-looking name.
const secretEntropy = 3.5

// secretMinLen is the minimum length of such a value.
const secretMinLen = 16

// DetectSecret reports whether the file at the slash-separated path p, with
// the given content, holds a credential, and which kind ("private key",
// "GitHub token", ...). The kind never includes the secret itself. content
// may be nil to judge by the name alone.
func DetectSecret(p string, content []byte) (kind string, found bool) {
	if k := secretFileKind(p); k != "" {
		return k, true
	}
	if content == nil {
		if isPEMFile(p) {
			return "key file", true
		}
		return "", false
	}
	if k := secretConfigKind(p, content); k != "" {
		return k, true
	}
	if k := secretContentKind(p, content); k != "" {
		return k, true
	}
	if isPEMFile(p) && !publicPEM(content) {
		return "key file", true
	}
	return "", false
}

// isPEMFile reports whether p names a PEM file, which is a secret unless its
// content shows that it holds only public material (see publicPEM).
func isPEMFile(p string) bool { return strings.EqualFold(path.Ext(p), ".pem") }

// publicPEMTypes are the PEM block types that hold nothing secret.
var publicPEMTypes = map[string]bool{
	"CERTIFICATE": true, "TRUSTED CERTIFICATE": true, "X509 CERTIFICATE": true, "CERTIFICATE REQUEST": true,
	"NEW CERTIFICATE REQUEST": true, "X509 CRL": true, "PUBLIC KEY": true, "RSA PUBLIC KEY": true,
	"PKCS7": true, "CMS": true, "DH PARAMETERS": true, "EC PARAMETERS": true, "SSH2 PUBLIC KEY": true,
}

var pemBegin = regexp.MustCompile(`-----BEGIN ([A-Z0-9 ]+)-----`)

// publicPEM reports whether a .pem file's content is text holding at least
// one PEM block, all of public types (certificates, public keys, ...).
// Anything else (a private key, an unknown block type, no block at all,
// binary DER) keeps the file out of the pack.
func publicPEM(content []byte) bool {
	if IsBinary(content) {
		return false
	}
	blocks := pemBegin.FindAllSubmatch(content, -1)
	if len(blocks) == 0 {
		return false
	}
	for _, m := range blocks {
		if !publicPEMTypes[string(m[1])] {
			return false
		}
	}
	return true
}

// secretFileKind judges a path by its name alone (.pem files excepted, see
// isPEMFile).
func secretFileKind(p string) string {
	base := path.Base(p)
	lower := strings.ToLower(base)
	switch lower {
	case ".env":
		return "env file"
	case ".env.example", ".env.sample", ".env.template":
		return ""
	case ".netrc", "_netrc":
		return "netrc credentials"
	case ".pgpass":
		return "PostgreSQL password file"
	case ".git-credentials":
		return "git credentials"
	case ".htpasswd":
		return "htpasswd file"
	case "credentials.json":
		return "credentials file"
	}
	if strings.HasPrefix(lower, ".env.") {
		return "env file"
	}
	for _, pre := range []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"} {
		if strings.HasPrefix(lower, pre) && !strings.HasSuffix(lower, ".pub") {
			return "SSH private key file"
		}
	}
	switch path.Ext(lower) {
	case ".key", ".p12", ".pfx", ".jks", ".keystore", ".p8", ".kdbx":
		return "key file"
	case ".tfstate":
		return "Terraform state"
	}
	if strings.HasSuffix(lower, ".tfstate.backup") {
		return "Terraform state"
	}
	return ""
}

var (
	npmrcToken = regexp.MustCompile(`(?m)(?:^|:)(?:_authToken|_auth|_password)\s*=\s*(\S+)`)
	pypircPass = regexp.MustCompile(`(?mi)^\s*password\s*[=:]\s*(\S+)`)
)

// secretConfigKind judges the package-manager configuration files that are
// harmless without a credential in them.
func secretConfigKind(p string, content []byte) string {
	switch strings.ToLower(path.Base(p)) {
	case ".npmrc":
		for _, m := range npmrcToken.FindAllSubmatch(content, -1) {
			if !isEnvRef(string(m[1])) {
				return "npm token"
			}
		}
	case ".pypirc":
		for _, m := range pypircPass.FindAllSubmatch(content, -1) {
			if !isEnvRef(string(m[1])) && !isPlaceholder(string(m[1])) {
				return "PyPI password"
			}
		}
	}
	return ""
}

// isEnvRef reports whether a configuration value refers to the environment
// instead of holding a value: ${VAR}, $VAR, %VAR%.
func isEnvRef(v string) bool {
	v = strings.Trim(v, `"'`)
	return strings.HasPrefix(v, "$") || strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%")
}

// tokenRule is one well-known credential format.
type tokenRule struct {
	kind    string
	anchors []string              // literal substrings, one of which must occur
	re      *regexp.Regexp        // submatch 1 is the credential
	ok      func(tok string) bool // vets a match (submatch 1): not a placeholder, random enough

}

// lookRandom vets a token's body: no placeholder, letters and digits mixed,
// entropy of at least 3 bits per byte (a fixed-format token of 20 to 40
// random characters has 4 to 5).
func lookRandom(tok string) bool {
	return !isPlaceholder(tok) && hasLetterAndDigit(tok) && shannon(tok) >= 3.0
}

var tokenRules = []tokenRule{
	{
		kind:    "AWS access key id",
		anchors: []string{"AKIA", "ASIA"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9])((?:AKIA|ASIA)[A-Z0-9]{16})(?:[^A-Za-z0-9]|$)`),
		ok:      func(t string) bool { return !isPlaceholder(t) && shannon(t) >= 3.0 },
	},
	{
		kind:    "AWS secret access key",
		anchors: []string{"ecret_access_key", "ECRET_ACCESS_KEY", "ecretAccessKey", "ecret-access-key"},
		re:      regexp.MustCompile(`(?i)aws_?secret_?access_?key["']?\s*(?::=|=>|=|:)\s*["']?([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)`),
		ok:      func(t string) bool { return !isPlaceholder(t) && shannon(t) >= 3.5 },
	},
	{
		kind:    "GitHub token",
		anchors: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,251})(?:[^A-Za-z0-9_]|$)`),
		ok:      func(t string) bool { return lookRandom(t[4:]) },
	},
	{
		kind:    "GitHub token",
		anchors: []string{"github_pat_"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?:[^A-Za-z0-9_]|$)`),
		ok:      func(t string) bool { return lookRandom(t[11:]) },
	},
	{
		kind:    "Slack token",
		anchors: []string{"xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9])(xox[baprs]-[0-9]+-[0-9A-Za-z-]{10,})`),
		ok:      func(t string) bool { return lookRandom(t[5:]) },
	},
	{
		kind:    "Slack webhook",
		anchors: []string{"hooks.slack.com/"},
		re:      regexp.MustCompile(`https://hooks\.slack\.com/((?:services|workflows|triggers)/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]{16,})`),
		ok:      func(t string) bool { return !isPlaceholder(t) && !strings.Contains(t, "00000000") },
	},
	{
		kind:    "Stripe key",
		anchors: []string{"sk_live_", "rk_live_"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9_])([sr]k_live_[0-9A-Za-z]{20,})`),
		ok:      func(t string) bool { return lookRandom(t[8:]) },
	},
	{
		kind:    "Google API key",
		anchors: []string{"AIza"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)`),
		ok:      func(t string) bool { return lookRandom(t[4:]) },
	},
	{
		kind:    "Anthropic API key",
		anchors: []string{"sk-ant-"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(sk-ant-[a-z]+[0-9]*-[A-Za-z0-9_-]{80,})`),
		ok:      func(t string) bool { return lookRandom(t[strings.LastIndexByte(t[:20], '-')+1:]) },
	},
	{
		kind:    "OpenAI-style API key",
		anchors: []string{"sk-"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,})`),
		ok: func(t string) bool {
			body := t[3:]
			for _, pre := range []string{"proj-", "svcacct-", "admin-"} {
				body = strings.TrimPrefix(body, pre)
			}
			return !strings.HasPrefix(body, "ant-") && lookRandom(body) && shannon(body) >= 3.5 &&
				strings.Count(body, "-") <= 2
		},
	},
	{
		kind:    "JWT",
		anchors: []string{"eyJ"},
		re:      regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})`),
		ok:      isJWT,
	},
}

// isJWT checks that a three-part token's header decodes to JSON naming an
// algorithm.
func isJWT(t string) bool {
	head, _, _ := strings.Cut(t, ".")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(head, "="))
	if err != nil {
		return false
	}
	return bytes.HasPrefix(b, []byte("{")) && bytes.Contains(b, []byte(`"alg"`))
}

var (
	pemHeader   = regexp.MustCompile(`-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----`)
	gcpType     = regexp.MustCompile(`"type"\s*:\s*"service_account"`)
	gcpKey      = regexp.MustCompile(`"private_key"\s*:\s*"-----BEGIN`)
	escapedEOL  = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "\n")
	base64Chars = func() (t [256]bool) {
		for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
			t[c] = true
		}
		return
	}()
)

// secretContentKind looks for credentials in a file's content.
func secretContentKind(p string, content []byte) string {
	if bytes.Contains(content, []byte("service_account")) && gcpType.Match(content) && gcpKey.Match(content) {
		return "GCP service account key"
	}
	if bytes.Contains(content, []byte("PRIVATE KEY")) && hasPEMPrivateKey(content) {
		return "private key"
	}
	for i := range tokenRules {
		r := &tokenRules[i]
		if !containsAny(content, r.anchors) {
			continue
		}
		for _, m := range r.re.FindAllSubmatch(content, -1) {
			if r.ok == nil || r.ok(string(m[1])) {
				return r.kind
			}
		}
	}
	if kind := gitleaksKind(p, content); kind != "" {
		return kind
	}
	if IsTestPath(p) {
		// Test vectors and fixtures assign random-looking literals to
		// names like secret and token all the time; only the exact token
		// formats above count there.
		return ""
	}
	if name := secretAssignment(p, content); name != "" {
		return "high-entropy value assigned to " + name
	}
	return ""
}

// hasPEMPrivateKey reports whether a PEM private key header is followed by
// a key body: after optional "Name: value" header lines and blank lines, a
// line of at least 40 base64 characters. The body may sit in a string
// literal (quotes, "\n" escapes, + concatenation around it). A bare header,
// as in code that looks for one, is not a key.
func hasPEMPrivateKey(content []byte) bool {
	for _, loc := range pemHeader.FindAllIndex(content, -1) {
		rest := content[loc[1]:]
		rest = rest[:min(len(rest), 1024)]
		lines := strings.Split(escapedEOL.Replace(string(rest)), "\n")
		for i, line := range lines {
			if i > 8 {
				break
			}
			line = strings.Trim(line, " \t\"'`+,;()")
			if line == "" || strings.Contains(line, ":") {
				continue
			}
			if len(line) >= 40 && allBase64(line) {
				return true
			}
			break
		}
	}
	return false
}

func allBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		if !base64Chars[s[i]] {
			return false
		}
	}
	return true
}

func containsAny(b []byte, subs []string) bool {
	for _, s := range subs {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// testDirs are folder names that hold tests and their data.
var testDirs = map[string]bool{"testdata": true, "test": true, "tests": true, "__tests__": true, "fixtures": true,
	"__fixtures__": true, "spec": true, "__snapshots__": true}

// IsTestPath reports whether p is test code or test data.
func IsTestPath(p string) bool {
	parts := strings.Split(p, "/")
	for _, d := range parts[:len(parts)-1] {
		if testDirs[strings.ToLower(d)] {
			return true
		}
	}
	base := strings.ToLower(parts[len(parts)-1])
	stem := strings.TrimSuffix(base, path.Ext(base))
	return strings.HasSuffix(stem, "_test") || strings.HasSuffix(stem, ".test") || strings.HasSuffix(stem, ".spec") ||
		strings.HasSuffix(stem, "_spec") || strings.HasPrefix(base, "test_") && strings.HasSuffix(base, ".py") ||
		strings.HasSuffix(stem, "test") && (strings.HasSuffix(base, ".java") || strings.HasSuffix(base, ".kt")) ||
		strings.HasSuffix(stem, "tests") && strings.HasSuffix(base, ".cs")
}

// gitleaksOn is false only in BenchmarkDetectSecretTree's baseline.
var gitleaksOn = true

// gitleaksKind is the kind of the first finding of gitleaks' rules in the
// file at p, or "".
func gitleaksKind(p string, content []byte) string {
	if !gitleaksOn {
		return ""
	}
	set, err := gitleaksRules()
	if err != nil {
		return "" // a broken vendored rule file; TestGitleaksRulesCompile fails on it
	}
	kind := ""
	set.find(p, content, func(r *gitleaksRule, _, _ int) bool {
		kind = r.kind
		return false
	})
	return kind
}

// SecretSpan is a credential found in a text: its kind (as DetectSecret
// names it) and its byte range, Start inclusive, End exclusive.
type SecretSpan struct {
	Kind       string
	Start, End int
}

// FindSecrets returns the credentials in text, ordered by position, for
// redacting text that leaves the machine (a hand-off to a hosted model):
// PEM private key blocks (header to footer), the token formats of lore's
// rules and of gitleaks' rule set, and high-entropy literals assigned to
// secret-looking names (outside test files). p is the text's
// slash-separated path, "" when it is no file; it selects the rules that
// apply to some files only. Overlapping findings are merged into one span
// (the first one's kind).
func FindSecrets(p string, text []byte) []SecretSpan {
	var spans []SecretSpan
	for _, loc := range pemBlock.FindAllIndex(text, -1) {
		if hasPEMPrivateKey(text[loc[0]:loc[1]]) {
			spans = append(spans, SecretSpan{"private key", loc[0], loc[1]})
		}
	}
	for i := range tokenRules {
		r := &tokenRules[i]
		if !containsAny(text, r.anchors) {
			continue
		}
		for _, m := range r.re.FindAllSubmatchIndex(text, -1) {
			if r.ok == nil || r.ok(string(text[m[2]:m[3]])) {
				spans = append(spans, SecretSpan{r.kind, m[2], m[3]})
			}
		}
	}
	if set, err := gitleaksRules(); err == nil {
		set.find(p, text, func(r *gitleaksRule, start, end int) bool {
			spans = append(spans, SecretSpan{r.kind, start, end})
			return true
		})
	}
	if !IsTestPath(p) {
		spans = append(spans, assignmentSpans(p, text)...)
	}
	return mergeSpans(spans)
}

// pemBlock is a PEM private key block, header to footer (or to the end of
// the text when the footer is missing).
var pemBlock = regexp.MustCompile(`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END [A-Z0-9 ]*-----|\z)`)

func mergeSpans(spans []SecretSpan) []SecretSpan {
	if len(spans) < 2 {
		return spans
	}
	slices.SortStableFunc(spans, func(a, b SecretSpan) int { return cmp.Compare(a.Start, b.Start) })
	out := spans[:1]
	for _, s := range spans[1:] {
		last := &out[len(out)-1]
		if s.Start < last.End {
			last.End = max(last.End, s.End)
			continue
		}
		out = append(out, s)
	}
	return out
}
