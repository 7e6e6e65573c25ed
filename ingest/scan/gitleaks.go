package scan

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// The maintained rule set: gitleaks' default configuration, vendored
// unchanged in gitleaks/gitleaks.toml (MIT, gitleaks/LICENSE; version and
// update procedure in gitleaks/README.md). Its rules are Go regular
// expressions (RE2), each with keywords that must occur (case-insensitive)
// before its expression runs, an optional entropy floor for the secret and
// allowlists. lore applies them after its own rules (secrets.go), which
// keep their kinds and their vetting; a gitleaks finding is reported as
// "secret: gitleaks RULE-ID". A secret that lore's rules take for a
// placeholder (isPlaceholder) is not one for gitleaks' rules either.

//go:embed gitleaks/gitleaks.toml
var gitleaksTOML []byte

// gitleaksSkipped are the rules lore leaves out, and why:
//   - generic-api-key: any long value assigned to a name containing key,
//     token, auth, api, ... . secret_assign.go's rule does this job with a
//     vetting tuned for source code (entropy, placeholders, test files);
//     gitleaks' version would drop many ordinary source files from the pack.
//   - pkcs12-file: a rule on the file name alone, which secretFileKind
//     already covers (*.p12, *.pfx).
//   - jwt: lore's own JWT rule (secrets.go) finds the same tokens, checking
//     that the header decodes to JSON naming an algorithm; gitleaks' keyword
//     for it, "ey", occurs on most lines of code ("key"), which made every
//     file pay for its expression.
var gitleaksSkipped = map[string]bool{"generic-api-key": true, "pkcs12-file": true, "jwt": true}

// gitleaksKeywords replaces the keywords of rules whose own keywords occur
// in most source files, for speed:
//   - vault-service-token: "hvs." only. Its other keyword, "s.", gates the
//     legacy token form (s. and 24 characters, before Vault 1.10) and
//     occurs on most lines of code (os.Exit, ...).
var gitleaksKeywords = map[string][]string{"vault-service-token": {"hvs."}}

type glAllowlist struct {
	Condition   string   `toml:"condition"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	Paths       []string `toml:"paths"`
	StopWords   []string `toml:"stopwords"`
}

type glRule struct {
	ID          string        `toml:"id"`
	Regex       string        `toml:"regex"`
	SecretGroup int           `toml:"secretGroup"`
	Entropy     float64       `toml:"entropy"`
	Keywords    []string      `toml:"keywords"`
	Path        string        `toml:"path"`
	Allowlists  []glAllowlist `toml:"allowlists"`
}

type glConfig struct {
	Allowlist glAllowlist `toml:"allowlist"`
	Rules     []glRule    `toml:"rules"`
}

// allowlist is a compiled gitleaks allowlist: a finding it matches is not
// a secret.
type allowlist struct {
	and       bool   // condition AND: every criterion given must match
	target    string // what regexes test: "secret" (default), "match", "line"
	regexes   []*regexp.Regexp
	paths     []*regexp.Regexp
	stopwords []string // lower case
}

// gitleaksRule is a compiled rule.
type gitleaksRule struct {
	id          string
	kind        string
	re          *regexp.Regexp
	secretGroup int
	entropy     float64
	path        *regexp.Regexp // the rule applies only to matching paths
	allow       []allowlist
	// multiline: the expression spans any number of lines ((?s), [\s\S]),
	// so it runs on the whole text instead of on windows around its
	// keywords.
	multiline bool
}

// gitleaksSet is the compiled rule set and its keyword index.
type gitleaksSet struct {
	rules   []gitleaksRule
	global  allowlist
	kw      keywordIndex
	noKW    []int // rules without keywords: always run
	kwOwner []int // the rule of each keyword of kw
}

var (
	gitleaksOnce sync.Once
	gitleaks     *gitleaksSet
	gitleaksErr  error
)

// gitleaksRules compiles the embedded rule set once. An error here is a
// broken vendored file, found by the tests.
func gitleaksRules() (*gitleaksSet, error) {
	gitleaksOnce.Do(func() { gitleaks, gitleaksErr = compileGitleaks(gitleaksTOML) })
	return gitleaks, gitleaksErr
}

func compileGitleaks(data []byte) (*gitleaksSet, error) {
	var cfg glConfig
	if _, err := toml.Decode(string(data), &cfg); err != nil {
		return nil, fmt.Errorf("gitleaks rules: %w", err)
	}
	set := &gitleaksSet{}
	var err error
	if set.global, err = compileAllowlist(cfg.Allowlist); err != nil {
		return nil, fmt.Errorf("gitleaks global allowlist: %w", err)
	}
	var keywords []string
	var owners []int
	for _, r := range cfg.Rules {
		if gitleaksSkipped[r.ID] || r.Regex == "" {
			continue
		}
		re, err := regexp.Compile(r.Regex)
		if err != nil {
			return nil, fmt.Errorf("gitleaks rule %s: %w", r.ID, err)
		}
		gr := gitleaksRule{id: r.ID, kind: "gitleaks " + r.ID, re: re, secretGroup: r.SecretGroup, entropy: r.Entropy,
			multiline: strings.Contains(r.Regex, "(?s") || strings.Contains(r.Regex, `[\s\S`)}
		if kws, ok := gitleaksKeywords[r.ID]; ok {
			r.Keywords = kws
		}
		if r.Path != "" {
			if gr.path, err = regexp.Compile(r.Path); err != nil {
				return nil, fmt.Errorf("gitleaks rule %s path: %w", r.ID, err)
			}
		}
		for _, a := range r.Allowlists {
			al, err := compileAllowlist(a)
			if err != nil {
				return nil, fmt.Errorf("gitleaks rule %s allowlist: %w", r.ID, err)
			}
			gr.allow = append(gr.allow, al)
		}
		idx := len(set.rules)
		set.rules = append(set.rules, gr)
		if len(r.Keywords) == 0 {
			set.noKW = append(set.noKW, idx)
		}
		for _, k := range r.Keywords {
			keywords = append(keywords, strings.ToLower(k))
			owners = append(owners, idx)
		}
	}
	set.kw = newKeywordIndex(keywords)
	set.kwOwner = owners
	return set, nil
}

func compileAllowlist(a glAllowlist) (allowlist, error) {
	al := allowlist{and: strings.EqualFold(a.Condition, "AND"), target: a.RegexTarget}
	for _, s := range a.Regexes {
		re, err := regexp.Compile(s)
		if err != nil {
			return al, err
		}
		al.regexes = append(al.regexes, re)
	}
	for _, s := range a.Paths {
		re, err := regexp.Compile(s)
		if err != nil {
			return al, err
		}
		al.paths = append(al.paths, re)
	}
	for _, w := range a.StopWords {
		al.stopwords = append(al.stopwords, strings.ToLower(w))
	}
	return al, nil
}

// allowed reports whether the allowlist lets a finding through: with
// condition OR (the default) any of its criteria matching, with AND all the
// criteria it has.
func (a *allowlist) allowed(p, secret, match, line string) bool {
	type check struct {
		present, hit bool
	}
	var checks [3]check
	if len(a.paths) > 0 {
		checks[0].present = true
		for _, re := range a.paths {
			if re.MatchString(p) {
				checks[0].hit = true
				break
			}
		}
	}
	if len(a.regexes) > 0 {
		checks[1].present = true
		target := secret
		switch a.target {
		case "match":
			target = match
		case "line":
			target = line
		}
		for _, re := range a.regexes {
			if re.MatchString(target) {
				checks[1].hit = true
				break
			}
		}
	}
	if len(a.stopwords) > 0 {
		checks[2].present = true
		ls := strings.ToLower(secret)
		for _, w := range a.stopwords {
			if strings.Contains(ls, w) {
				checks[2].hit = true
				break
			}
		}
	}
	any, all, some := false, true, false
	for _, c := range checks {
		if !c.present {
			continue
		}
		some = true
		any = any || c.hit
		all = all && c.hit
	}
	if a.and {
		return some && all
	}
	return any
}

// Windows. A rule's expression runs on the text around its keywords only:
// from windowBefore lines above a keyword's line to windowAfter lines below
// (gitleaks' curl rules reach five lines down), or on the whole text when
// the expression may span any number of lines or the keyword occurs more
// than maxWindows times. Keywords are part of what the expressions match,
// so this finds what a run over the whole text finds, for a fraction of
// the cost: most expressions begin with a bounded run of any word
// character, which Go's matcher tries at every byte.
const (
	windowBefore = 2
	windowAfter  = 6
	maxWindows   = 256
)

// find calls yield for each finding of the rule set in content (the file
// at path p; "" for text of no file): the rule, and the byte range of the
// secret. yield returns false to stop.
func (set *gitleaksSet) find(p string, content []byte, yield func(r *gitleaksRule, start, end int) bool) {
	if p != "" && set.global.pathAllowed(p) {
		return
	}
	hits := make([][]int, len(set.rules)) // keyword positions per rule; nil: none
	full := make([]bool, len(set.rules))
	for _, i := range set.noKW {
		full[i] = true
	}
	set.kw.scan(content, func(k, pos int) {
		r := set.kwOwner[k]
		if full[r] {
			return
		}
		if len(hits[r]) >= maxWindows || set.rules[r].multiline {
			full[r] = true
			return
		}
		hits[r] = append(hits[r], pos)
	})
	text := string(content) // one copy: the regexp and allowlist APIs work on strings
	for i := range set.rules {
		if !full[i] && hits[i] == nil {
			continue
		}
		r := &set.rules[i]
		if r.path != nil && (p == "" || !r.path.MatchString(p)) {
			continue
		}
		if full[i] {
			if !set.findIn(r, p, text, 0, len(text), yield) {
				return
			}
			continue
		}
		slices.Sort(hits[i])
		ws, we := -1, -1
		for _, pos := range hits[i] {
			if pos < we {
				continue // inside the current window
			}
			s, e := linesAround(text, pos, windowBefore, windowAfter)
			if s <= we {
				we = e // overlaps: extend
				continue
			}
			if ws >= 0 && !set.findIn(r, p, text, ws, we, yield) {
				return
			}
			ws, we = s, e
		}
		if ws >= 0 && !set.findIn(r, p, text, ws, we, yield) {
			return
		}
	}
}

// linesAround is the byte range from before lines above the line holding
// pos to after lines below it.
func linesAround(text string, pos, before, after int) (int, int) {
	s := strings.LastIndexByte(text[:pos], '\n') + 1 // the start of pos's line
	for n := 0; n < before && s > 0; n++ {
		s = strings.LastIndexByte(text[:s-1], '\n') + 1
	}
	e := pos
	for n := 0; n <= after; n++ {
		i := strings.IndexByte(text[e:], '\n')
		if i < 0 {
			return s, len(text)
		}
		e += i + 1
	}
	return s, e
}

// findIn runs one rule's expression on text[from:to] and yields its
// findings (positions in text); false when yield asked to stop.
func (set *gitleaksSet) findIn(r *gitleaksRule, p, text string, from, to int, yield func(r *gitleaksRule, start, end int) bool) bool {
	for _, m := range r.re.FindAllStringSubmatchIndex(text[from:to], -1) {
		for j := range m {
			if m[j] >= 0 {
				m[j] += from
			}
		}
		start, end := m[0], m[1]
		// gitleaks trims the newlines around a match.
		for start < end && text[start] == '\n' {
			start++
		}
		for end > start && text[end-1] == '\n' {
			end--
		}
		match := text[start:end]
		ss, se := start, end
		if n := len(m) / 2; n > 1 {
			if r.secretGroup > 0 && r.secretGroup < n {
				if m[2*r.secretGroup] >= 0 {
					ss, se = m[2*r.secretGroup], m[2*r.secretGroup+1]
				}
			} else {
				for g := 1; g < n; g++ {
					if m[2*g] >= 0 && m[2*g+1] > m[2*g] {
						ss, se = m[2*g], m[2*g+1]
						break
					}
				}
			}
		}
		secret := text[ss:se]
		if r.entropy > 0 && shannon(secret) <= r.entropy {
			continue
		}
		// lore's own notion of an example value (xxxx, EXAMPLE,
		// changeme, ${VAR}, ...) holds for every rule, as for its own.
		if isPlaceholder(secret) {
			continue
		}
		line := lineAround(text, start, end)
		if set.global.allowed("", secret, match, line) {
			continue
		}
		allowed := false
		for j := range r.allow {
			if r.allow[j].allowed(p, secret, match, line) {
				allowed = true
				break
			}
		}
		if allowed {
			continue
		}
		if !yield(r, ss, se) {
			return false
		}
	}
	return true
}

// pathAllowed reports whether the global allowlist skips the file p
// (gitleaks' own config, lock files, vendored dependencies, images, ...).
func (a *allowlist) pathAllowed(p string) bool {
	for _, re := range a.paths {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// lineAround is the line, or lines, holding text[start:end].
func lineAround(text string, start, end int) string {
	ls := strings.LastIndexByte(text[:start], '\n') + 1
	le := strings.IndexByte(text[end:], '\n')
	if le < 0 {
		le = len(text)
	} else {
		le += end
	}
	return text[ls:le]
}

// keywordIndex finds, in one pass over a text, where the keywords of a set
// of lower-case keywords occur in it, ignoring ASCII case: the keywords are
// indexed by their first two bytes, so each position of the text costs one
// table look-up, and only positions whose two bytes start a keyword are
// compared. (gitleaks runs a rule only when one of its keywords occurs;
// with some 200 rules, looking for each keyword in turn would read a file
// hundreds of times.)
type keywordIndex struct {
	// starts has a bit for each two-byte pair a keyword starts with: 8 KiB
	// that stay in cache, where first (1.5 MiB of slice headers) would not.
	starts   [65536 / 64]uint64
	first    [65536][]int32 // keyword indexes by their first two bytes
	short    [256][]int32   // one-byte keywords
	hasShort bool
	words    []string
}

func newKeywordIndex(words []string) keywordIndex {
	var k keywordIndex
	k.words = words
	for i, w := range words {
		switch {
		case len(w) == 0:
		case len(w) == 1:
			k.short[w[0]] = append(k.short[w[0]], int32(i))
			k.hasShort = true
		default:
			h := uint16(w[0])<<8 | uint16(w[1])
			k.first[h] = append(k.first[h], int32(i))
			k.starts[h/64] |= 1 << (h % 64)
		}
	}
	return k
}

// scan calls hit for each occurrence of a keyword in text: the keyword's
// index and the occurrence's byte offset.
func (k *keywordIndex) scan(text []byte, hit func(i, pos int)) {
	for i := 0; i < len(text); i++ {
		c0 := lowerASCII(text[i])
		if k.hasShort {
			for _, w := range k.short[c0] {
				hit(int(w), i)
			}
		}
		if i+1 >= len(text) {
			break
		}
		h := uint16(c0)<<8 | uint16(lowerASCII(text[i+1]))
		if k.starts[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, w := range k.first[h] {
			if word := k.words[w]; hasPrefixFold(text[i+2:], word[2:]) {
				hit(int(w), i)
			}
		}
	}
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold reports whether b starts with the lower-case word, ASCII
// case ignored.
func hasPrefixFold(b []byte, word string) bool {
	if len(b) < len(word) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if lowerASCII(b[i]) != word[i] {
			return false
		}
	}
	return true
}
