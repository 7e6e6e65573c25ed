package lsp

import (
	"strings"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

// codeAction lists lore's actions for a selection or the cursor. It is pure:
// no daemon, no file access beyond resolving the path, so the list comes at
// once even while the daemon starts.
//
// A fourth action, "Generate the plan's code with the larger tier"
// (lore.generate of the newest plan), is offered when [tier.large] names a
// model and a plan exists (generateAction, lsp/generate.go).
func (s *Server) codeAction(c *call) (any, error) {
	var p protocol.CodeActionParams
	if err := unmarshal(c.req, &p); err != nil {
		return nil, err
	}
	if p.TextDocument.URI == "" {
		return nil, invalidParams("textDocument/codeAction: textDocument.uri is required")
	}
	actions := []protocol.CodeAction{}
	if _, _, ok := repoPath(s.repoRoot(), p.TextDocument.URI); !ok || !kindWanted(p.Context.Only) {
		return actions, nil
	}
	kind := CodeActionKind
	for _, a := range codeActions {
		r := p.Range
		actions = append(actions, protocol.CodeAction{
			Title: a.title,
			Kind:  &kind,
			Command: &protocol.Command{
				Title:     a.title,
				Command:   a.command,
				Arguments: []any{CommandArgs{URI: p.TextDocument.URI, Range: &r}},
			},
		})
	}
	if a, ok := generateAction(s.repoRoot()); ok {
		a.Kind = &kind
		actions = append(actions, a)
	}
	return actions, nil
}

var codeActions = []struct{ title, command string }{
	{"Ask lore about this", CommandAsk},
	{"Explain with repository context", CommandExplain},
	{"Plan a change here", CommandPlan},
}

// kindWanted applies codeAction's context.only filter to lore's kind.
func kindWanted(only []protocol.CodeActionKind) bool {
	if len(only) == 0 {
		return true
	}
	for _, k := range only {
		if k == CodeActionKind || strings.HasPrefix(string(CodeActionKind), string(k)+".") {
			return true
		}
	}
	return false
}
