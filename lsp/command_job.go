package lsp

import (
	"context"
	"encoding/json"
	"strings"

	"lore/api"
)

// Answer commands (lore.ask, lore.explain, lore.plan,
// lore.summarizeChanges) reply at once and answer afterwards. Many clients
// run workspace/executeCommand synchronously (eglot waits up to 10 s with
// the editor frozen, and sends no cancel when it gives up), while an answer
// may wait a minute for a prefill. So the reply is CommandStarted, sent
// before any work, and the answer is delivered by what the client
// supports: window/showDocument of the rendered answer, text streamed on
// the request's work-done token, else window/showMessage (or logMessage)
// naming the answer file. The commandReply setting "answer" keeps the old
// behaviour for clients that run commands asynchronously.

// commandJob is one answer command.
type commandJob struct {
	command  string
	title    string // of its work-done progress
	question string // as shown; the first line is what the reply names
	loc      *api.Location
	token    json.RawMessage // the request's work-done token, if any
	run      func(ctx context.Context, w *workDone) (*AskResult, error)
}

// startCommand serves an answer command: at once (CommandStarted, the
// answer following) or, under commandReply "answer", once answered.
func (s *Server) startCommand(c *call, j commandJob) (any, error) {
	st := s.currentSettings()
	if st.CommandReply == ReplyAnswer {
		return s.runCommand(c.ctx, c.cancel, j, "", false)
	}
	path := ""
	if st.ShowAnswers == ShowDocument {
		path = s.answerPath(j.question)
	}
	// The job outlives the request: it ends with the session, on
	// window/workDoneProgress/cancel of its token, or on lore.cancel.
	ctx, cancel := context.WithCancel(s.ctx)
	// The token cancels the job from now on: a client may cancel before
	// the progress begins.
	key := ""
	if hasToken(j.token) {
		key = tokenKey(j.token)
	}
	s.mu.Lock()
	s.nextJob++
	id := s.nextJob
	s.jobs[id] = cancel
	if key != "" {
		s.progress[key] = cancel
	}
	s.mu.Unlock()
	done := func() {
		s.mu.Lock()
		delete(s.jobs, id)
		if key != "" {
			delete(s.progress, key)
		}
		s.mu.Unlock()
		cancel()
	}
	c.after = func() {
		ok := s.spawn(func() {
			defer done()
			s.runCommand(ctx, cancel, j, path, true)
		})
		if !ok {
			done()
		}
	}
	out := &CommandStarted{Started: true, Command: j.command, Question: firstLine(j.question)}
	if hasToken(j.token) {
		out.Token = j.token
	}
	if path != "" {
		out.DocumentURI = fileURI(path)
	}
	return out, nil
}

// runCommand runs an answer command and shows its answer. later says the
// reply was sent already: the answer streams on the client's token, and a
// failure is shown rather than returned. path is where to render the
// answer ("" = pick a name when done).
func (s *Server) runCommand(ctx context.Context, cancel context.CancelFunc, j commandJob, path string, later bool) (*AskResult, error) {
	w := s.startProgress(ctx, j.token, true, j.title, cancel)
	if w != nil && later && hasToken(j.token) {
		w.stream = true
	}
	res, err := j.run(ctx, w)
	if err != nil {
		w.end(failMessage(ctx, err))
		if later {
			name := "lore " + strings.ToLower(commandTitles[j.command])
			if ctx.Err() != nil {
				s.logMessage(msgInfo, name+": cancelled")
			} else {
				s.showMessage(msgError, name+" failed: "+err.Error())
			}
		}
		return nil, err
	}
	s.showAnswerAt(j.command, res, j.loc, path, later, w != nil && w.stream)
	w.endWith(doneMessage(res), res)
	return res, nil
}

// cancelCommands serves lore.cancel: {token} cancels the command whose
// work-done token it is, no token every answer command still running.
func (s *Server) cancelCommands(args []json.RawMessage) (any, error) {
	var p struct {
		Token json.RawMessage `json:"token"`
	}
	if len(args) > 0 && string(args[0]) != "null" {
		if err := json.Unmarshal(args[0], &p); err != nil {
			return nil, invalidParams("%s: the argument must be {token?}: %v", CommandCancel, err)
		}
	}
	var cancels []context.CancelFunc
	s.mu.Lock()
	if hasToken(p.Token) {
		if c := s.progress[tokenKey(p.Token)]; c != nil {
			cancels = append(cancels, c)
		}
	} else {
		for _, c := range s.jobs {
			cancels = append(cancels, c)
		}
	}
	s.mu.Unlock()
	for _, c := range cancels {
		c()
	}
	return map[string]int{"cancelled": len(cancels)}, nil
}

func hasToken(t json.RawMessage) bool { return len(t) > 0 && string(t) != "null" }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// logMessage writes to the editor's log of the server (window/logMessage).
func (s *Server) logMessage(typ int, msg string) {
	s.notify("window/logMessage", map[string]any{"type": typ, "message": msg})
}
