package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"lore/api"
)

// Default questions of the asking commands.
const (
	DefaultAskQuestion     = "Explain this code and how it fits in the repository."
	DefaultExplainQuestion = "Explain this code with the repository as context: what it does, what calls it and what it depends on, and anything surprising."
	DefaultPlanQuestion    = "Plan a change here: which files and functions to change, in what order, and the risks."
	summarizeQuestion      = "Summarize the uncommitted changes (`git diff HEAD`)."
)

// executeCommand serves workspace/executeCommand.
func (s *Server) executeCommand(c *call) (any, error) {
	var p struct {
		Command       string            `json:"command"`
		Arguments     []json.RawMessage `json:"arguments"`
		WorkDoneToken json.RawMessage   `json:"workDoneToken"`
	}
	if err := unmarshal(c.req, &p); err != nil {
		return nil, err
	}
	var args CommandArgs
	if len(p.Arguments) > 0 && string(p.Arguments[0]) != "null" {
		if err := json.Unmarshal(p.Arguments[0], &args); err != nil {
			return nil, invalidParams("%s: the argument must be {uri, range, question?}: %v", p.Command, err)
		}
	}
	switch p.Command {
	case CommandAsk, CommandExplain, CommandPlan:
		return s.askCommand(c, p.Command, args, p.WorkDoneToken)
	case CommandStatus:
		return s.statusCommand(c)
	case CommandSummarizeChanges:
		return s.summarizeChanges(c, p.WorkDoneToken)
	case CommandCancel:
		return s.cancelCommands(p.Arguments)
	case CommandGenerate:
		return s.generateCommand(c, args, p.WorkDoneToken)
	default:
		return nil, invalidParams("unknown command %q (lore serves %s)", p.Command, strings.Join(Commands, ", "))
	}
}

func (s *Server) askCommand(c *call, command string, args CommandArgs, token json.RawMessage) (any, error) {
	r := askRequest{question: strings.TrimSpace(args.Question)}
	title := "lore: asking"
	switch command {
	case CommandAsk:
		if r.question == "" {
			r.question = DefaultAskQuestion
		}
	case CommandExplain:
		title = "lore: explaining"
		if r.question == "" {
			r.question = DefaultExplainQuestion
		} else {
			r.question = DefaultExplainQuestion + " " + r.question
		}
	case CommandPlan:
		title = "lore: planning"
		if r.question == "" {
			r.question = DefaultPlanQuestion
		}
		r.session = args.Session
		if r.session == "" {
			r.session = DefaultPlanSession
		}
	}
	if args.URI != "" {
		loc, err := s.location(args.URI, args.Range)
		if err != nil {
			return nil, err
		}
		r.loc = loc
	}
	return s.startCommand(c, commandJob{
		command: command, title: title, question: r.question, loc: r.loc, token: token,
		run: func(ctx context.Context, w *workDone) (*AskResult, error) {
			r.progress = w
			ask := s.runAsk
			if command == CommandPlan {
				ask = s.runPlan
			}
			res, err := ask(ctx, r)
			if err != nil {
				return nil, err
			}
			return fromAPI(res, r.question), nil
		},
	})
}

func (s *Server) statusCommand(c *call) (any, error) {
	st, err := s.status(c.ctx)
	if err != nil {
		return nil, err
	}
	s.showMessage(msgInfo, statusLine(st))
	return st, nil
}

func statusLine(st *api.Status) string {
	line := fmt.Sprintf("lore: %s · %s · pack %d tokens (%d files, version %s) · %d questions running",
		st.State, st.Model, st.PackTokens, st.Files, st.PackVersion, st.ActiveQuestions)
	if st.Progress != nil && st.Progress.Total > 0 {
		line += fmt.Sprintf(" · prefilling %d%%", 100*st.Progress.Done/st.Progress.Total)
	}
	if st.Buffers > 0 {
		line += fmt.Sprintf(" · %d unsaved buffers", st.Buffers)
	}
	if st.Error != "" {
		line += " · error: " + st.Error
	}
	return line
}

// summarizeChanges asks the daemon to summarize `git diff HEAD` (its
// summarize method, which `lore summarize` and the git hooks use too), at
// hook priority: it yields to interactive questions. Like the other answer
// commands it replies at once and delivers the summary afterwards.
func (s *Server) summarizeChanges(c *call, token json.RawMessage) (any, error) {
	return s.startCommand(c, commandJob{
		command: CommandSummarizeChanges, title: "lore: summarizing changes", question: summarizeQuestion, token: token,
		run: func(ctx context.Context, w *workDone) (*AskResult, error) {
			ctx, cancel := context.WithTimeout(ctx, AskTimeout)
			defer cancel()
			d, err := s.daemon(ctx)
			if err != nil {
				return nil, err
			}
			res, err := d.Summarize(ctx, api.SummarizeParams{MaxTokens: s.currentSettings().MaxTokens}, func(text string) {
				w.startGenerating()
				w.text(text)
			}, w.prefill)
			if err != nil {
				return nil, err
			}
			return fromAPI(&res.AskResult, summarizeQuestion), nil
		},
	})
}
