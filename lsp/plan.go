package lsp

import (
	"context"
	"os"
	"path/filepath"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/api"
	"lore/config"
	"lore/internal/atomicfile"
)

// lore.plan: the daemon's plan method (a planning-session turn asked for
// steps, files and risks, the paths it names checked against the tree).
// The plan is saved as the Markdown file lore.generate and `lore generate
// --plan NAME` read, and the editor opens it to edit.

// runPlan asks the daemon for a plan, saves it and shows it. The answer
// it returns holds the plan document, so the rendered answer is the plan
// with its path check.
func (s *Server) runPlan(ctx context.Context, r askRequest) (*api.AskResult, error) {
	ctx, cancel := context.WithTimeout(ctx, AskTimeout)
	defer cancel()
	s.flushBuffers(ctx)
	c, err := s.daemon(ctx)
	if err != nil {
		return nil, err
	}
	if r.maxTokens <= 0 {
		// The editor's answer cap (maxTokens) bounds a plan too.
		r.maxTokens = s.currentSettings().MaxTokens
	}
	res, err := c.Plan(ctx, api.PlanParams{Goal: r.question, Session: r.session, MaxTokens: r.maxTokens, Location: r.loc},
		func(text string) {
			r.progress.startGenerating()
			r.progress.text(text)
		}, r.progress.prefill)
	if err != nil {
		return nil, err
	}
	file := config.PlanFile(s.repoRoot(), res.Name)
	if err := config.MkdirPrivate(filepath.Dir(file)); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(file, []byte(res.Markdown), 0o600); err != nil {
		return nil, err
	}
	s.logMessage(msgInfo, "lore: plan saved to "+file+"; run lore.generate with {\"plan\": \""+res.Name+"\"} to hand it to the larger tier")
	if s.caps.showDocument {
		var out protocol.ShowDocumentResult
		if err := s.callClient(ctx, "window/showDocument", protocol.ShowDocumentParams{URI: fileURI(file)}, &out); err != nil {
			s.log.Warn("window/showDocument", "uri", file, "error", err)
		}
	}
	out := res.AskResult
	out.Text = res.Markdown
	return &out, nil
}

// planExists reports whether a plan file is there.
func planExists(root, name string) bool {
	st, err := os.Stat(config.PlanFile(root, name))
	return err == nil && st.Mode().IsRegular()
}
