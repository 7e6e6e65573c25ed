package handoff

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"lore/ingest/scan"
)

// Redactor replaces secrets in text that leaves the machine with stable
// placeholders and maps them back in the edits that return, so that a
// secret is neither sent nor destroyed. It finds secrets with the ingest
// secret filter's own detectors (scan.DetectSecret, whatever rules it
// holds) and with the configured patterns (tier.large.redact).
//
// DetectSecret tells whether a text holds a secret, not where; the
// Redactor narrows that down itself: to the line, then to the token whose
// replacement silences the detector, and for secrets that span lines (a
// PEM block) to the block.
type Redactor struct {
	patterns []*regexp.Regexp
	orig     map[string]string // placeholder -> secret
	holder   map[string]string // secret -> placeholder
}

// placeholderPrefix starts every placeholder. "REDACTED" marks it as a
// placeholder to the detectors too, so a placeholder never counts as a
// secret itself.
const placeholderPrefix = "LORE_REDACTED_"

// NewRedactor compiles the configured patterns.
func NewRedactor(patterns []string) (*Redactor, error) {
	r := &Redactor{orig: map[string]string{}, holder: map[string]string{}}
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("tier.large.redact pattern %q: %v", p, err)
		}
		r.patterns = append(r.patterns, re)
	}
	return r, nil
}

// Count is the number of distinct secrets replaced so far.
func (r *Redactor) Count() int { return len(r.orig) }

// placeholder returns the stable placeholder of secret: the same secret
// gets the same placeholder in every request, so prompts stay cacheable.
func (r *Redactor) placeholder(secret string) string {
	if ph, ok := r.holder[secret]; ok {
		return ph
	}
	sum := sha256.Sum256([]byte(secret))
	ph := placeholderPrefix + hex.EncodeToString(sum[:6])
	r.holder[secret] = ph
	r.orig[ph] = secret
	return ph
}

// Restore puts the secrets back where placeholders are.
func (r *Redactor) Restore(text string) string {
	if !strings.Contains(text, placeholderPrefix) {
		return text
	}
	// A placeholder may hold another (a block replaced after a token in
	// it was): restore until none is left.
	for range 8 {
		before := text
		for ph, secret := range r.orig {
			text = strings.ReplaceAll(text, ph, secret)
		}
		if text == before || !strings.Contains(text, placeholderPrefix) {
			break
		}
	}
	return text
}

// Redact returns text with every secret replaced. p is the file's path
// (the detectors judge some names and file types differently); use a
// neutral name such as "plan.md" for text that is no file. The second
// result is false when a secret could not be narrowed down, in which case
// the whole text is replaced by one placeholder.
func (r *Redactor) Redact(p, text string) (string, bool) {
	for _, re := range r.patterns {
		text = re.ReplaceAllStringFunc(text, r.placeholder)
	}
	for range 200 {
		if _, found := scan.DetectSecret(p, []byte(text)); !found {
			return text, true
		}
		next, ok := r.narrow(p, text)
		if !ok || next == text {
			break
		}
		text = next
	}
	if _, found := scan.DetectSecret(p, []byte(text)); !found {
		return text, true
	}
	return r.placeholder(text), false
}

var secretToken = regexp.MustCompile(`[A-Za-z0-9_\-+/=.~]{8,}`)

func detects(p, s string) bool {
	_, found := scan.DetectSecret(p, []byte(s))
	return found
}

// narrow replaces one secret in text, the smallest piece it can find.
func (r *Redactor) narrow(p, text string) (string, bool) {
	lines := strings.SplitAfter(text, "\n")
	for _, line := range lines {
		if !detects(p, line) {
			continue
		}
		toks := secretToken.FindAllString(line, -1)
		sort.SliceStable(toks, func(i, j int) bool { return len(toks[i]) > len(toks[j]) })
		for _, tok := range toks {
			if strings.HasPrefix(tok, placeholderPrefix) {
				continue
			}
			if !detects(p, strings.ReplaceAll(line, tok, placeholderPrefix+"000000000000")) {
				return strings.ReplaceAll(text, tok, r.placeholder(tok)), true
			}
		}
		// No single token: the line as a whole, its indentation kept.
		body := strings.TrimSpace(line)
		if body == "" {
			return text, false
		}
		return strings.ReplaceAll(text, body, r.placeholder(body)), true
	}
	// A secret across lines: the shortest run of lines that holds it
	// (the first end line j at which a run from the top detects, then the
	// latest start i that still does), widened to its block: to the PEM
	// END line, or up to the next blank line.
	j := -1
	for k := range lines {
		if detects(p, strings.Join(lines[:k+1], "")) {
			j = k
			break
		}
	}
	if j < 0 {
		return text, false
	}
	i := 0
	for s := j; s >= 0; s-- {
		if detects(p, strings.Join(lines[s:j+1], "")) {
			i = s
			break
		}
	}
	end := j
	for k := j; k < len(lines) && k < i+400; k++ {
		if strings.Contains(lines[k], "-----END") {
			end = k
			break
		}
		if strings.TrimSpace(lines[k]) == "" {
			break
		}
		end = k
	}
	block := strings.TrimRight(strings.Join(lines[i:end+1], ""), "\n")
	return strings.ReplaceAll(text, block, r.placeholder(block)), true
}
