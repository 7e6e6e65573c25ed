package ingest

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SectionTags are the tags whose lines delimit the prompt's sections: a
// section opens with a line <TAG ...> and closes with a line </TAG> (a
// deleted marker is one line <deleted .../>). No text placed inside a
// section may hold such a line, or a file could close its own section and
// forge another file's ("a later copy supersedes an earlier one").
var SectionTags = []string{"file", "skeleton", "map", "deleted", "selection", "question", "answer"}

// Fence escapes the lines of text that would read as a section boundary,
// so that text placed inside a section can never end it or open another.
// Lines end at '\n' and at anything else a reader may take for a line
// break ('\r', '\v', '\f', U+0085, U+2028, U+2029). Such a line is one that
// starts, after any white space or invisible
// characters, with '<' or "</" and a section tag (in any case, ending at a
// character that cannot continue a name). Fence puts a backslash before
// its '<'; a line that already reads that way after one or more
// backslashes gets one more, as mboxrd quotes "From " lines, so that
// Unfence gives the text back exactly. Every other line is left as it is:
// the text, and so its tokens, change only where a boundary could be
// forged, and the same text always fences the same way (the KV prefix
// stays reusable).
func Fence(text string) string {
	var b strings.Builder
	changed := false
	pos := 0
	for line := range visualLines(text) {
		at, ok := tagLine(line)
		switch {
		case ok && !changed:
			b.Grow(len(text) + 16)
			b.WriteString(text[:pos])
			changed = true
			fallthrough
		case ok:
			b.WriteString(line[:at])
			b.WriteByte('\\')
			b.WriteString(line[at:])
		case changed:
			b.WriteString(line)
		}
		pos += len(line)
	}
	if !changed {
		return text // the common case: nothing copied
	}
	return b.String()
}

// Unfence undoes Fence: it removes one backslash from each line that Fence
// would have escaped.
func Unfence(text string) string {
	if !strings.Contains(text, "\\<") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for line := range visualLines(text) {
		if at, ok := tagLine(line); ok && line[at] == '\\' {
			b.WriteString(line[:at])
			b.WriteString(line[at+1:])
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// IsSectionLine reports whether a line of the prompt would read as a
// section boundary: after white space or invisible characters, '<' or
// "</" and a section tag. Fenced text never holds one.
func IsSectionLine(line string) bool {
	at, ok := tagLine(line)
	return ok && line[at] == '<'
}

// tagLine reports whether line, after leading white space and invisible
// characters, holds any backslashes then '<' or "</" and a section tag
// that no ASCII letter, digit or '_' continues (anything else may end a
// tag for a reader: "<file ", "<file>", "<file\u200b"); at is where the
// backslashes (or the '<') start.
func tagLine(line string) (at int, ok bool) {
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		if r == utf8.RuneError || !(unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)) {
			break
		}
		i += size
	}
	at = i
	for i < len(line) && line[i] == '\\' {
		i++
	}
	if i >= len(line) || line[i] != '<' {
		return 0, false
	}
	i++
	if i < len(line) && line[i] == '/' {
		i++
	}
	for _, tag := range SectionTags {
		if len(line)-i < len(tag) || !strings.EqualFold(line[i:i+len(tag)], tag) {
			continue
		}
		if j := i + len(tag); j == len(line) || !isNameByte(line[j]) {
			return at, true
		}
	}
	return 0, false
}

// visualLines yields the lines of text, each with its line break, split
// at every character a reader may take for one.
func visualLines(text string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for len(text) > 0 {
			end := len(text)
			for i := 0; i < len(text); i++ {
				if n := lineBreak(text[i:]); n > 0 {
					end = i + n
					break
				}
			}
			if !yield(text[:end]) {
				return
			}
			text = text[end:]
		}
	}
}

// lineBreak is the length of the line break s starts with, or 0.
func lineBreak(s string) int {
	switch c := s[0]; {
	case c == '\n' || c == '\r' || c == '\v' || c == '\f':
		return 1
	case c == 0xC2 && len(s) > 1 && s[1] == 0x85: // U+0085
		return 2
	case c == 0xE2 && len(s) > 2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9): // U+2028, U+2029
		return 3
	}
	return 0
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
