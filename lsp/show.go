package lsp

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/api"
	"lore/config"
	"lore/internal/atomicfile"
)

// Showing a command's answer: a rendered Markdown file opened with
// window/showDocument (showAnswers "document", when the editor supports
// it), else window/showMessage (long answers are cut, naming the file).

// keepAnswers is how many rendered answers are kept.
const keepAnswers = 50

// maxMessageChars caps an answer shown with window/showMessage.
const maxMessageChars = 1500

var commandTitles = map[string]string{
	CommandAsk:              "Ask",
	CommandExplain:          "Explain",
	CommandPlan:             "Plan",
	CommandSummarizeChanges: "Summary of the uncommitted changes",
}

// showAnswerAt shows res per the settings and sets res.DocumentURI when
// it rendered a file, at path ("" = a new name). Showing runs in the
// background: the command's result does not wait for the editor. later
// says the command replied before its answer; streamed, that the answer
// went to the client on its own work-done token. A client that gets the
// answer no other way gets a message: under showAnswers "none" a log
// message with the answer, under "document" without showDocument a
// message naming the file.
func (s *Server) showAnswerAt(command string, res *AskResult, loc *api.Location, path string, later, streamed bool) {
	st := s.currentSettings()
	s.mu.Lock()
	canShow := s.caps.showDocument
	s.mu.Unlock()
	if st.ShowAnswers == ShowNone {
		if later && !streamed {
			s.logMessage(msgInfo, "lore "+strings.ToLower(commandTitles[command])+": "+strings.TrimSpace(res.Text))
		}
		return
	}
	if st.ShowAnswers == ShowDocument {
		if path == "" {
			path = s.answerPath(res.Question)
		}
		if err := s.writeAnswer(path, command, res, loc); err != nil {
			s.log.Warn("writing the answer", "error", err)
			path = ""
		} else {
			res.DocumentURI = fileURI(path)
		}
	} else {
		path = ""
	}
	if path != "" && canShow {
		uri := res.DocumentURI
		s.spawn(func() {
			var out protocol.ShowDocumentResult
			err := s.callClient(s.ctx, "window/showDocument", protocol.ShowDocumentParams{URI: uri, TakeFocus: &protocol.True}, &out)
			if err != nil || !out.Success {
				s.log.Warn("window/showDocument", "uri", uri, "error", err)
				s.showMessage(msgInfo, messageText(command, res.Text, path))
			}
		})
		return
	}
	if path != "" && streamed {
		return // the client shows the streamed answer; the end names the file
	}
	s.showMessage(msgInfo, messageText(command, res.Text, path))
}

func messageText(command, text, path string) string {
	text = strings.TrimSpace(text)
	if r := []rune(text); len(r) > maxMessageChars {
		text = string(r[:maxMessageChars]) + "…"
		if path != "" {
			text += " (the whole answer: " + path + ")"
		}
	} else if path != "" {
		text += " (saved in " + path + ")"
	}
	return "lore " + strings.ToLower(commandTitles[command]) + ": " + text
}

// answerDir is where rendered answers go.
func (s *Server) answerDir() string {
	if s.opts.AnswerDir != "" {
		return s.opts.AnswerDir
	}
	return filepath.Join(config.RepoStateDir(s.repoRoot()), "answers")
}

// answerPath names a new rendered answer: time-stamped, so that names
// sort oldest first.
func (s *Server) answerPath(question string) string {
	return filepath.Join(s.answerDir(), time.Now().Format("20060102-150405.000")+"-"+slug(firstLine(question))+".md")
}

// writeAnswer renders an answer as Markdown into path (a temporary file
// renamed into place, so a crash leaves no half file) and prunes old
// answers.
func (s *Server) writeAnswer(path, command string, res *AskResult, loc *api.Location) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(path, []byte(renderAnswer(command, res, loc, s.repoRoot())), 0o600); err != nil {
		return err
	}
	pruneAnswers(dir, keepAnswers)
	return nil
}

func renderAnswer(command string, res *AskResult, loc *api.Location, root string) string {
	var b strings.Builder
	title := commandTitles[command]
	if title == "" {
		title = "Answer"
	}
	fmt.Fprintf(&b, "# lore · %s\n\n", title)
	q := res.Question
	if i := strings.Index(q, "\n"); i >= 0 {
		q = q[:i] // a summary's question carries the diff
	}
	fmt.Fprintf(&b, "> %s\n\n", q)
	if loc != nil {
		uri := fileURI(filepath.Join(root, filepath.FromSlash(loc.Path)))
		switch {
		case loc.StartLine > 0 && loc.EndLine > loc.StartLine:
			fmt.Fprintf(&b, "About [`%s` lines %d–%d](%s#L%d)\n\n", loc.Path, loc.StartLine, loc.EndLine, uri, loc.StartLine)
		case loc.StartLine > 0:
			fmt.Fprintf(&b, "About [`%s` line %d](%s#L%d)\n\n", loc.Path, loc.StartLine, uri, loc.StartLine)
		default:
			fmt.Fprintf(&b, "About [`%s`](%s)\n\n", loc.Path, uri)
		}
	}
	b.WriteString(strings.TrimSpace(res.Text))
	b.WriteString("\n\n---\n\n")
	stats := []string{}
	if res.PackVersion != "" {
		stats = append(stats, "pack "+res.PackVersion)
	}
	if res.GeneratedTokens > 0 {
		stats = append(stats,
			fmt.Sprintf("first token %.0f ms", res.TTFTMillis),
			fmt.Sprintf("%d prompt tokens (%d cached, %d prefilled)", res.PromptTokens, res.CachedTokens, res.PrefilledTokens),
			fmt.Sprintf("%d generated (%s)", res.GeneratedTokens, res.StopReason))
	}
	if res.Session != "" {
		s := fmt.Sprintf("session %q turn %d", res.Session, res.SessionTurn)
		if res.SessionReplayed {
			s += " (replayed on the changed repository)"
		}
		stats = append(stats, s)
	}
	if len(res.Retrieved) > 0 {
		stats = append(stats, api.SeenNote(res.RetrievedFull, res.Retrieved))
	}
	if len(res.Omitted) > 0 {
		stats = append(stats, fmt.Sprintf("%d files not in full in the context", len(res.Omitted)))
	}
	fmt.Fprintf(&b, "*%s*\n", strings.Join(stats, " · "))
	return b.String()
}

// slug is a short file-name-safe form of a question.
func slug(q string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(q) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		out = "answer"
	}
	return out
}

// pruneAnswers keeps the newest keep answers in dir.
func pruneAnswers(dir string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".md") {
			names = append(names, e.Name())
		}
	}
	if len(names) <= keep {
		return
	}
	sort.Strings(names) // time-stamped: oldest first
	for _, n := range names[:len(names)-keep] {
		os.Remove(filepath.Join(dir, n))
	}
}
