package handoff

import (
	"errors"
	"fmt"
	"strings"

	"lore/handoff/edit"
)

// state is the files of a hand-off: their real text on disk, the redacted
// view the larger tier edits, and the hashes WriteAll checks against.
type state struct {
	root   string
	red    *Redactor
	judge  func(p string, content []byte) string
	view   map[string]string // path -> redacted text as the edits so far left it (absent: no such file)
	real   map[string]string // path -> the file's text on disk when read (absent: it did not exist)
	hashes map[string]string // path -> edit.Hash of the file when read, edit.Absent when it did not exist
	held   map[string]string // path -> why the file is withheld (a secret, .env, ...)
}

// load reads a file into the state once; ok is false when it does not
// exist or is withheld (held then says why). A file the pack would leave
// out is never read into the view, so it is neither sent nor edited.
func (s *state) load(p string) (text string, ok bool, err error) {
	c, err := edit.CleanPath(p)
	if err != nil {
		return "", false, err
	}
	if _, done := s.hashes[c]; done {
		text, ok = s.view[c]
		return text, ok, nil
	}
	files, hashes, err := edit.ReadFiles(s.root, []string{c})
	if err != nil {
		return "", false, err
	}
	real, exists := files[c]
	if exists {
		if reason := s.judge(c, []byte(real)); reason != "" {
			s.held[c] = reason
			s.hashes[c] = hashes[c]
			return "", false, nil
		}
	}
	s.hashes[c] = hashes[c]
	if !exists {
		return "", false, nil
	}
	s.real[c] = real
	red, _ := s.red.Redact(c, real)
	s.view[c] = red
	return red, true, nil
}

// failures is what one round left undone.
type failures struct {
	note  string   // the repair note for the larger tier ("" when all applied)
	lines []string // one line per failed block, for the user
}

// apply parses an answer and applies its blocks to the view.
func (s *state) apply(answer string, format edit.Format, rep *Report) failures {
	blocks, err := edit.Parse(answer, format)
	if err != nil {
		msg := err.Error()
		var se *edit.SyntaxError
		if errors.Is(err, edit.ErrNoBlocks) {
			msg = "the answer has no edit blocks"
		} else if errors.As(err, &se) {
			msg = se.Error()
		}
		rep.BlocksFailed = 1
		return failures{
			note:  "Your answer could not be used: " + msg + ".\nAnswer again with edit blocks, as the instructions say.\n",
			lines: []string{msg},
		}
	}
	var ok []edit.Block
	var refused []string
	for _, b := range blocks {
		c, err := edit.CleanPath(b.Path)
		if err != nil {
			refused = append(refused, fmt.Sprintf("block %d for path %s: refused: %v", b.Index, b.Path, err))
			continue
		}
		if _, _, err := s.load(c); err != nil {
			refused = append(refused, fmt.Sprintf("block %d for path %s: refused: %v", b.Index, b.Path, err))
			continue
		}
		if why, held := s.held[c]; held {
			refused = append(refused, fmt.Sprintf("block %d for path %s: refused: the file is withheld from you (%s) and cannot be edited", b.Index, c, why))
			continue
		}
		ok = append(ok, b)
	}
	r := edit.Apply(ok, s.view)
	for _, c := range r.Changes {
		if c.Delete {
			delete(s.view, c.Path)
		} else {
			s.view[c.Path] = c.New
		}
	}
	rep.BlocksApplied += len(r.Applied)
	var f failures
	for _, x := range r.Failures {
		f.lines = append(f.lines, fmt.Sprintf("block %d for path %s: %s", x.Block, x.Path, x.Reason))
	}
	f.lines = append(f.lines, refused...)
	rep.BlocksFailed = len(f.lines)
	if len(f.lines) > 0 {
		var b strings.Builder
		b.WriteString(edit.RepairNote(r))
		for _, line := range refused {
			b.WriteString("\n" + line + "\n")
		}
		if len(r.Failures) == 0 {
			b.WriteString("\nSend blocks only for files you were given or new files inside the repository.\n")
		}
		f.note = b.String()
	}
	return f
}

// changes are the edits against the disk, secrets restored.
func (s *state) changes() []edit.Change {
	var out []edit.Change
	for _, p := range sortedKeys(s.hashes) {
		if _, held := s.held[p]; held {
			continue
		}
		old, existed := s.real[p]
		v, exists := s.view[p]
		switch {
		case !existed && !exists:
			continue
		case existed && !exists:
			out = append(out, edit.Change{Path: p, Old: old, Existed: true, Delete: true})
		default:
			n := s.red.Restore(v)
			if existed && n == old {
				continue
			}
			out = append(out, edit.Change{Path: p, Old: old, New: n, Existed: existed})
		}
	}
	return out
}
