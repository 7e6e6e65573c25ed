package lsp

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"lore/config"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

// uriPath is the local path of a file:// URI.
func uriPath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", err
	}
	if u.Scheme != "file" {
		return "", errors.New("not a file URI: " + uri)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", errors.New("not a local file URI: " + uri)
	}
	if u.Path == "" {
		return "", errors.New("file URI without a path: " + uri)
	}
	return filepath.Clean(filepath.FromSlash(u.Path)), nil
}

// fileURI is the file:// URI of an absolute path.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// repoPath maps a document URI to its path in the repository root: the
// absolute path and the slash-separated path relative to root, both with
// every symlink resolved (the editor may name the file through one; root is
// resolved). ok is false for other schemes, for files outside the
// repository, those a symlink leads out of it included, and for git's own
// files: such a document is never read for a question nor sent to the
// daemon as a buffer.
func repoPath(root, uri string) (abs, rel string, ok bool) {
	if root == "" {
		return "", "", false
	}
	p, err := uriPath(uri)
	if err != nil {
		return "", "", false
	}
	p, err = config.ResolveExisting(p)
	if err != nil {
		return "", "", false
	}
	if rel, ok = config.Below(root, p); !ok {
		return "", "", false
	}
	for _, c := range strings.Split(rel, "/") {
		if c == ".git" {
			return "", "", false
		}
	}
	return p, rel, true
}

// offset is the byte offset in text of an LSP position, whose character is
// counted in UTF-16 code units. Positions past a line's end mean its end;
// past the last line, the text's end.
func offset(text string, pos protocol.Position) int {
	i := 0
	for line := protocol.UInteger(0); line < pos.Line; line++ {
		nl := strings.IndexByte(text[i:], '\n')
		if nl < 0 {
			return len(text)
		}
		i += nl + 1
	}
	units := int(pos.Character)
	for units > 0 && i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '\n' || (r == '\r' && strings.HasPrefix(text[i:], "\r\n")) {
			break
		}
		n := 1
		if r >= 0x10000 {
			n = 2
		}
		if n > units {
			break // inside a surrogate pair: stay before the character
		}
		units -= n
		i += size
	}
	return i
}

// applyChange applies one didChange content change to text.
func applyChange(text string, r *protocol.Range, newText string) string {
	if r == nil {
		return newText
	}
	start, end := offset(text, r.Start), offset(text, r.End)
	if end < start {
		start, end = end, start
	}
	return text[:start] + newText + text[end:]
}

// lineSpan returns lines [first, last] (0-based, inclusive, clamped) of
// text and the 0-based numbers actually used.
func lineSpan(text string, first, last int) (string, int, int) {
	lines := strings.SplitAfter(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if len(lines) == 0 {
		return "", 0, 0
	}
	first = max(0, min(first, len(lines)-1))
	last = max(first, min(last, len(lines)-1))
	return strings.Join(lines[first:last+1], ""), first, last
}

// wordAt is the identifier under a position, or "".
func wordAt(text string, pos protocol.Position) string {
	i := offset(text, pos)
	isWord := func(r rune) bool {
		return r == '_' || r == '$' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80 && r != utf8.RuneError
	}
	start, end := i, i
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(text[:start])
		if !isWord(r) {
			break
		}
		start -= size
	}
	for end < len(text) {
		r, size := utf8.DecodeRuneInString(text[end:])
		if !isWord(r) {
			break
		}
		end += size
	}
	return text[start:end]
}

// readText returns a document's text: the editor's if it is open, else the
// file's.
func (s *Server) readText(uri, abs string) (string, error) {
	if t, ok := s.docs.text(uri); ok {
		return t, nil
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
