package lsp

import (
	"fmt"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

// HoverMaxTokens caps a hover's answer: it should read at a glance.
const HoverMaxTokens = 160

// hoverRequest explains the symbol under the cursor. It costs a model call,
// so it is advertised only when the "hover" setting is on at initialize; a
// later workspace/configuration can turn it off (null answers).
func (s *Server) hoverRequest(c *call) (any, error) {
	var p protocol.HoverParams
	if err := unmarshal(c.req, &p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	on := s.hover && s.settings.Hover
	markdown := s.caps.markdownHover
	s.mu.Unlock()
	if !on {
		return nil, nil
	}
	abs, rel, ok := repoPath(s.repoRoot(), p.TextDocument.URI)
	if !ok {
		return nil, nil
	}
	text, err := s.readText(p.TextDocument.URI, abs)
	if err != nil {
		return nil, nil
	}
	word := wordAt(text, p.Position)
	if word == "" {
		return nil, nil
	}
	pos := p.Position
	loc, err := s.location(p.TextDocument.URI, &protocol.Range{Start: pos, End: pos})
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf("Briefly explain the symbol `%s` used at %s:%d: what it is, what it does, and where it is defined.", word, rel, pos.Line+1)
	res, err := s.runAsk(c.ctx, askRequest{question: q, loc: loc, maxTokens: min(s.currentSettings().MaxTokens, HoverMaxTokens)})
	if err != nil {
		return nil, err
	}
	kind := protocol.MarkupKindMarkdown
	value := fmt.Sprintf("**lore** · `%s`\n\n%s", word, res.Text)
	if !markdown {
		kind = protocol.MarkupKindPlainText
		value = "lore · " + word + "\n\n" + res.Text
	}
	return protocol.Hover{Contents: protocol.MarkupContent{Kind: kind, Value: value}}, nil
}
