package ask

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/charmbracelet/glamour"
	"golang.org/x/term"

	"lore/api"
	"lore/config"
)

// answerWriter writes an answer as it streams in, in one of ask's output
// forms.
type answerWriter interface {
	token(text string)
	// finish ends the answer; res is the whole of it with its statistics.
	finish(res *api.AskResult) error
}

// plainWriter writes the text as the model writes it.
type plainWriter struct {
	w    io.Writer
	last string
}

func (p *plainWriter) token(text string) {
	io.WriteString(p.w, text)
	if text != "" {
		p.last = text
	}
}

func (p *plainWriter) finish(*api.AskResult) error {
	if !strings.HasSuffix(p.last, "\n") {
		fmt.Fprintln(p.w)
	}
	return nil
}

// discardWriter writes nothing while the answer streams (--json prints the
// whole result at the end).
type discardWriter struct{}

func (discardWriter) token(string)                {}
func (discardWriter) finish(*api.AskResult) error { return nil }

// eventWriter writes one JSON object per line (--stream-json).
type eventWriter struct{ enc *json.Encoder }

func newEventWriter(w io.Writer) *eventWriter { return &eventWriter{enc: json.NewEncoder(w)} }

// streamEvent is one line of --stream-json.
type streamEvent struct {
	Type    string         `json:"type"` // progress, token, result or error
	Text    string         `json:"text,omitempty"`
	Done    int            `json:"done,omitempty"`
	Total   int            `json:"total,omitempty"`
	Result  *api.AskResult `json:"result,omitempty"`
	Message string         `json:"message,omitempty"`
}

func (e *eventWriter) token(text string) { e.enc.Encode(streamEvent{Type: "token", Text: text}) }

func (e *eventWriter) progress(p api.Progress) {
	e.enc.Encode(streamEvent{Type: "progress", Done: p.Done, Total: p.Total})
}

func (e *eventWriter) fail(err error) { e.enc.Encode(streamEvent{Type: "error", Message: err.Error()}) }

func (e *eventWriter) finish(res *api.AskResult) error {
	return e.enc.Encode(streamEvent{Type: "result", Result: res})
}

// markdownWriter renders the answer as Markdown for a terminal. It renders
// block by block as they complete (a blank line outside a code fence ends
// one), so that the answer still appears as it is written.
type markdownWriter struct {
	w       io.Writer
	r       *glamour.TermRenderer
	pending strings.Builder
}

func newMarkdownWriter(w io.Writer) answerWriter {
	width := 100
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			width = min(cols, 120)
		}
	}
	style := os.Getenv("GLAMOUR_STYLE")
	if style == "" {
		style = "dark"
	}
	if os.Getenv("NO_COLOR") != "" {
		style = "ascii"
	}
	r, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(width-4))
	if err != nil {
		// An unknown GLAMOUR_STYLE: the text as written is still the answer.
		return &plainWriter{w: w}
	}
	return &markdownWriter{w: w, r: r}
}

func (m *markdownWriter) token(text string) {
	m.pending.WriteString(text)
	s := m.pending.String()
	cut := blockEnd(s)
	if cut <= 0 {
		return
	}
	m.render(s[:cut])
	m.pending.Reset()
	m.pending.WriteString(s[cut:])
}

// blockEnd is the end of the last complete Markdown block in s: after its
// last blank line that is outside a code fence, or 0.
func blockEnd(s string) int {
	end, fenced, off := 0, false, 0
	for _, line := range strings.SplitAfter(s, "\n") {
		off += len(line)
		if !strings.HasSuffix(line, "\n") {
			break
		}
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fenced = !fenced
		}
		if t == "" && !fenced {
			end = off
		}
	}
	return end
}

func (m *markdownWriter) render(block string) {
	if strings.TrimSpace(block) == "" {
		return
	}
	out, err := m.r.Render(block)
	if err != nil {
		io.WriteString(m.w, block)
		return
	}
	io.WriteString(m.w, trimPadding(strings.TrimRight(out, "\n"))+"\n")
}

// padding is what glamour pads each line with up to the wrap width: spaces,
// and the color codes around them.
var padding = regexp.MustCompile(`(?:\x1b\[[0-9;]*m| )+$`)

// trimPadding removes the padding at the end of each line (it would wrap
// on a narrower terminal and is copied along with the text), ending a line
// that had color codes with a reset.
func trimPadding(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		t := padding.ReplaceAllString(l, "")
		if strings.Contains(l, "\x1b[") {
			t += "\x1b[0m"
		}
		lines[i] = t
	}
	return strings.Join(lines, "\n")
}

func (m *markdownWriter) finish(*api.AskResult) error {
	m.render(m.pending.String())
	m.pending.Reset()
	return nil
}

// firstNoteFor reports whether the note about the files that did not fit
// is due for this pack version, and records it as given: it comes once per
// version of the pack, not after every answer.
func firstNoteFor(root, packVersion string) bool {
	if packVersion == "" {
		return true
	}
	path := filepath.Join(config.RepoStateDir(root), "omitted-noted")
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == packVersion {
		return false
	}
	os.WriteFile(path, []byte(packVersion+"\n"), 0o600)
	return true
}
