// Package edit turns a larger model's answer into file changes: it parses
// edit blocks (SEARCH/REPLACE blocks, the "diff" edit format, or whole
// files, the "whole" format), applies them to the current contents of the
// files with bounded tolerance (a block that matches twice or nowhere is a
// failure, never a guess), writes the note that asks the model to repair
// the failed blocks, renders the changes as a unified diff that git apply
// accepts, and writes them to a work tree all together or not at all.
//
// Everything but ReadFiles and WriteAll is pure: contents in,
// contents out, so a caller may apply the same answer to a scratch copy,
// show it as a diff, or send it to an editor as a workspace edit.
package edit

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Format is the edit format the model is asked to answer in.
type Format string

const (
	// FormatDiff is SEARCH/REPLACE blocks: the lines to find and the lines
	// that replace them. The default: it costs the fewest output tokens
	// and aider's published benchmarks find it best for strong models.
	FormatDiff Format = "diff"
	// FormatWhole is whole files, each the complete new text: the
	// fallback for small files and weaker models. SEARCH/REPLACE blocks
	// in a whole-format answer are still understood.
	FormatWhole Format = "whole"
)

// ParseFormat checks a setting's value ("" is FormatDiff).
func ParseFormat(s string) (Format, error) {
	switch Format(strings.TrimSpace(s)) {
	case "", FormatDiff:
		return FormatDiff, nil
	case FormatWhole:
		return FormatWhole, nil
	}
	return "", fmt.Errorf("unknown edit_format %q: use \"diff\" (SEARCH/REPLACE blocks) or \"whole\" (whole files)", s)
}

// Block is one edit of one file, in the order the answer gives them.
type Block struct {
	// Index counts the blocks of the answer from 1, as the repair note
	// names them.
	Index int
	// Path is the file's path as the model wrote it (wrapping quotes,
	// backticks and "**" removed); Apply cleans it with CleanPath and
	// refuses one outside the repository.
	Path string
	// Search is the text to find: whole lines, each ending in "\n"
	// ("" creates the file). Replace is its replacement, or the whole new
	// text for a Whole block.
	Search, Replace string
	// Whole: Replace is the complete new file (the whole format).
	Whole bool
	// Delete: the block deletes the file (the DELETE marker).
	Delete bool
	// Line is the block's first line in the answer, from 1.
	Line int
}

// ErrNoBlocks is the error Parse returns for an answer without any edit
// block.
var ErrNoBlocks = errors.New("the answer has no edit blocks: the model must answer with SEARCH/REPLACE blocks " +
	"(a line with the file's path, then a fenced block with <<<<<<< SEARCH, =======, >>>>>>> REPLACE) or whole files " +
	"(the path, then the file in a fence); ask again, or retry with the edit format's instructions in the system prompt")

// SyntaxError is a block Parse could not read: an unterminated block, or
// one without a file path. It names the answer's line.
type SyntaxError struct {
	Line int    // the answer's line, from 1
	Msg  string // what is wrong and what the block needs
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("edit block at line %d of the answer: %s", e.Line, e.Msg)
}

var (
	searchRe  = regexp.MustCompile(`^\s*<{5,9} ?SEARCH\s*$`)
	dividerRe = regexp.MustCompile(`^\s*={5,9}\s*$`)
	replaceRe = regexp.MustCompile(`^\s*>{5,9} ?REPLACE\s*$`)
	deleteRe  = regexp.MustCompile(`^\s*<{5,9} ?DELETE( FILE)?\s*$`)
	fenceRe   = regexp.MustCompile("^\\s*(`{3,}|~{3,})\\s*(.*?)\\s*$")
)

// Parse reads the edit blocks of a model's answer. Both formats accept
// SEARCH/REPLACE blocks and the DELETE marker; FormatWhole also takes a
// fenced block preceded by (or opened with) a file path as that file's
// whole new text. The path may stand on the line before the fence, in
// the fence's opening line (after or instead of the language), or on the
// line before the SEARCH marker, with backticks, quotes, "**" or a
// trailing colon around it; a block without one takes the previous
// block's path. CRLF line ends are read as LF. An answer without blocks
// is ErrNoBlocks; a malformed block is a *SyntaxError.
func Parse(answer string, format Format) ([]Block, error) {
	lines := splitAnswer(answer)
	p := &parser{lines: lines, whole: format == FormatWhole}
	if err := p.run(); err != nil {
		return nil, err
	}
	if len(p.blocks) == 0 {
		return nil, ErrNoBlocks
	}
	return p.blocks, nil
}

// splitAnswer splits at "\n" after turning "\r\n" and lone "\r" into it.
func splitAnswer(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type parser struct {
	lines  []string
	whole  bool
	blocks []Block
	last   string // the previous block's path

	inFence   bool
	fenceChar byte
	fenceLen  int
	fencePath string // the path in the open fence's opening line
	fenceLine int    // index of the open fence's opening line
}

func (p *parser) run() error {
	for i := 0; i < len(p.lines); i++ {
		l := p.lines[i]
		switch {
		case searchRe.MatchString(l):
			next, err := p.searchBlock(i)
			if err != nil {
				return err
			}
			i = next
		case deleteRe.MatchString(l):
			path, err := p.pathFor(i)
			if err != nil {
				return err
			}
			p.add(Block{Path: path, Delete: true, Line: i + 1})
		default:
			m := fenceRe.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			char, n, info := m[1][0], len(m[1]), m[2]
			if p.inFence {
				if char == p.fenceChar && n >= p.fenceLen && info == "" {
					p.inFence = false
				}
				continue
			}
			p.inFence, p.fenceChar, p.fenceLen, p.fenceLine = true, char, n, i
			p.fencePath = fenceInfoPath(info)
			if p.whole {
				if next, ok := p.wholeBlock(i); ok {
					i = next
				}
			}
		}
	}
	return nil
}

// add numbers a block and remembers its path for the next one.
func (p *parser) add(b Block) {
	b.Index = len(p.blocks) + 1
	p.blocks = append(p.blocks, b)
	p.last = b.Path
}

// searchBlock reads the SEARCH/REPLACE block whose marker is line i and
// returns the index of its REPLACE marker.
func (p *parser) searchBlock(i int) (int, error) {
	path, err := p.pathFor(i)
	if err != nil {
		return 0, err
	}
	// Marker lines inside the text (a file that shows this format, as
	// the instructions do) nest: a SEARCH marker opens an inner block
	// whose ======= and REPLACE lines are text.
	div, end, depth := -1, -1, 0
	for j := i + 1; j < len(p.lines) && end < 0; j++ {
		l := p.lines[j]
		switch {
		case searchRe.MatchString(l):
			depth++
		case depth > 0 && replaceRe.MatchString(l):
			depth--
		case depth > 0:
		case div < 0 && dividerRe.MatchString(l):
			div = j
		case div < 0 && replaceRe.MatchString(l):
			return 0, &SyntaxError{Line: j + 1, Msg: "expected the ======= line between SEARCH and REPLACE, found " + strings.TrimSpace(l)}
		case div >= 0 && replaceRe.MatchString(l):
			end = j
		}
	}
	if div < 0 {
		return 0, &SyntaxError{Line: i + 1, Msg: "the SEARCH section never ends: each block needs a ======= line and a >>>>>>> REPLACE line"}
	}
	if end < 0 {
		return 0, &SyntaxError{Line: i + 1, Msg: "the block has no >>>>>>> REPLACE line to end it"}
	}
	p.add(Block{Path: path, Search: joinLines(p.lines[i+1 : div]), Replace: joinLines(p.lines[div+1 : end]), Line: i + 1})
	return end, nil
}

// wholeBlock reads the fence opened at line i as a whole file when a path
// names it and it holds no SEARCH or DELETE marker (those are read as
// such). It returns the index of the closing fence. Inner fences (a
// Markdown file's code) nest: an opening with an info string deepens, a
// bare fence closes the innermost.
func (p *parser) wholeBlock(i int) (int, bool) {
	path := p.fencePath
	if path == "" {
		path = p.pathBefore(i)
	}
	if path == "" {
		return 0, false
	}
	depth, end := 0, -1
	for j := i + 1; j < len(p.lines) && end < 0; j++ {
		l := p.lines[j]
		if searchRe.MatchString(l) || deleteRe.MatchString(l) && j == i+1 {
			return 0, false
		}
		m := fenceRe.FindStringSubmatch(l)
		if m == nil || m[1][0] != p.fenceChar || len(m[1]) < p.fenceLen {
			continue
		}
		switch {
		case m[2] != "":
			depth++
		case depth > 0:
			depth--
		default:
			end = j
		}
	}
	if end < 0 {
		end = len(p.lines) // an answer cut off: the file ends with it
	}
	p.add(Block{Path: path, Replace: joinLines(p.lines[i+1 : end]), Whole: true, Line: i + 1})
	p.inFence = false
	return end, true
}

// pathFor finds the path of the block whose marker is line i: the open
// fence's path, else the nearest line before it naming one, else the
// previous block's path.
func (p *parser) pathFor(i int) (string, error) {
	if p.inFence && p.fencePath != "" {
		return p.fencePath, nil
	}
	if path := p.pathBefore(i); path != "" {
		return path, nil
	}
	if p.last != "" {
		return p.last, nil
	}
	return "", &SyntaxError{Line: i + 1, Msg: "no file path before the block: put the file's path alone on the line before the opening fence"}
}

// pathBefore looks at the two non-blank lines before line i, stepping
// over a fence opening without a path, for a line that is a path; a
// REPLACE marker (the previous block of the same fence) stops it.
func (p *parser) pathBefore(i int) string {
	seen := 0
	for j := i - 1; j >= 0 && seen < 3; j-- {
		l := strings.TrimSpace(p.lines[j])
		if l == "" {
			continue
		}
		seen++
		if replaceRe.MatchString(l) || deleteRe.MatchString(l) {
			return ""
		}
		if m := fenceRe.FindStringSubmatch(l); m != nil {
			if path := fenceInfoPath(m[2]); path != "" {
				return path
			}
			continue
		}
		return pathLine(l)
	}
	return ""
}

// fenceInfoPath is the path in a fence's info string: "go path/x.go",
// "path/x.go" or "go" (none). A single word is a path when it has a slash
// or a dot.
func fenceInfoPath(info string) string {
	fields := strings.Fields(info)
	switch len(fields) {
	case 0:
		return ""
	case 1:
		if strings.ContainsAny(fields[0], "/.") {
			return pathLine(fields[0])
		}
		return ""
	}
	return pathLine(fields[len(fields)-1])
}

// pathLine is the path a line names, or "": one word, optionally wrapped
// in backticks, quotes or "**", after Markdown heading or list marks and
// before a colon.
func pathLine(l string) string {
	l = strings.TrimSpace(l)
	l = strings.TrimLeft(l, "#")
	l = strings.TrimSpace(l)
	for _, pre := range []string{"- ", "* ", "File: ", "file: ", "Path: ", "path: "} {
		l = strings.TrimPrefix(l, pre)
	}
	l = strings.TrimSpace(l)
	l = strings.TrimSuffix(l, ":")
	for {
		n := len(l)
		l = strings.Trim(l, "`*\"'")
		l = strings.TrimSuffix(l, ":")
		if len(l) == n {
			break
		}
	}
	if l == "" || strings.ContainsAny(l, " \t<>|") || len(l) > 1024 || !pathLike(l) {
		return ""
	}
	return l
}

// pathLike tells a file name from a word of prose ("Run:"): it has a
// slash or a dot, ends in "file" (Makefile, Dockerfile) or is in capitals
// (LICENSE, README).
func pathLike(s string) bool {
	return strings.ContainsAny(s, "/.") || strings.HasSuffix(strings.ToLower(s), "file") ||
		strings.ToUpper(s) == s && strings.ToLower(s) != s
}

// joinLines joins lines, each ending in "\n".
func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
