package ingesttest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Section is one section of a pack's text as a reader takes it apart.
type Section struct {
	Tag  string // file, skeleton, map, selection; deleted for a marker
	Path string // the path attribute, unescaped; "" for map
	Body string // the lines between the header and the closing line
}

// sectionTags are the tags of the prompt's format, written out here rather
// than taken from package ingest, so that these tests hold the format to
// its description (the preamble) and not to itself.
var sectionTags = []string{"file", "skeleton", "map", "deleted", "selection", "question", "answer"}

var (
	headerRe  = regexp.MustCompile(`^<(file|skeleton|selection) path="([^"]*)"[^<>]*>$`)
	deletedRe = regexp.MustCompile(`^<deleted path="([^"]*)"/>$`)
)

// ParseSections reads a pack's text (or any run of sections) as the
// preamble describes it: a section opens with a line <TAG path="..." ...>,
// holds lines, and closes with the line </TAG>; <map> and </map> lines
// enclose the map; <deleted path="..."/> is a line of its own. Text outside
// sections (the preamble) is skipped. It fails when a section holds a line
// that a reader could take for a boundary (LooksLikeBoundary), at any line
// break a reader may see, or when a section is not closed.
func ParseSections(text string) ([]Section, error) {
	var out []Section
	var cur *Section
	var body strings.Builder
	lines := strings.SplitAfter(text, "\n")
	for n, raw := range lines {
		line := strings.TrimSuffix(raw, "\n")
		if cur != nil {
			if line == "</"+cur.Tag+">" {
				cur.Body = body.String()
				out = append(out, *cur)
				cur = nil
				body.Reset()
				continue
			}
			for _, vl := range visualLines(line) {
				if LooksLikeBoundary(vl) {
					return out, fmt.Errorf("line %d, inside the %s section of %q: %q reads as a section boundary", n+1, cur.Tag, cur.Path, vl)
				}
			}
			body.WriteString(raw)
			continue
		}
		if m := headerRe.FindStringSubmatch(line); m != nil {
			cur = &Section{Tag: m[1], Path: unescapeAttr(m[2])}
			continue
		}
		if line == "<map>" {
			cur = &Section{Tag: "map"}
			continue
		}
		if m := deletedRe.FindStringSubmatch(line); m != nil {
			out = append(out, Section{Tag: "deleted", Path: unescapeAttr(m[1])})
			continue
		}
		if LooksLikeBoundary(line) {
			return out, fmt.Errorf("line %d: %q is no boundary the format knows", n+1, line)
		}
	}
	if cur != nil {
		return out, fmt.Errorf("the %s section of %q is not closed", cur.Tag, cur.Path)
	}
	return out, nil
}

// LooksLikeBoundary reports whether a reader could take line for a section
// boundary: after white space or invisible characters, '<' or "</" and one
// of the format's tags, in any case, not continued by a letter, digit or
// '_'.
func LooksLikeBoundary(line string) bool {
	s := strings.TrimLeftFunc(line, func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) })
	s, ok := strings.CutPrefix(s, "<")
	if !ok {
		return false
	}
	s = strings.TrimPrefix(s, "/")
	for _, tag := range sectionTags {
		if len(s) >= len(tag) && strings.EqualFold(s[:len(tag)], tag) {
			if rest := s[len(tag):]; rest == "" || !isWordByte(rest[0]) {
				return true
			}
		}
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// visualLines splits s at every character a reader may take for a line
// break.
func visualLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
			return true
		}
		return false
	})
}

// attrRef is a character reference in an attribute.
var attrRef = regexp.MustCompile(`&(amp|quot|lt|gt|apos|#[0-9]+|#x[0-9a-fA-F]+);`)

// unescapeAttr reads an attribute as XML does: a numeric reference is the
// character of that code point. (HTML's rules differ for 128-159, which it
// reads as Windows-1252: &#133; is "…" there, U+0085 in XML.)
func unescapeAttr(s string) string {
	return attrRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[1 : len(ref)-1]
		switch name {
		case "amp":
			return "&"
		case "quot":
			return `"`
		case "lt":
			return "<"
		case "gt":
			return ">"
		case "apos":
			return "'"
		}
		var n uint64
		var err error
		if name[1] == 'x' {
			n, err = strconv.ParseUint(name[2:], 16, 32)
		} else {
			n, err = strconv.ParseUint(name[1:], 10, 32)
		}
		if err != nil || n > unicode.MaxRune {
			return ref
		}
		return string(rune(n))
	})
}
