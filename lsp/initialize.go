package lsp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/config"
)

// initialize answers at once: it resolves the repository root and the
// settings but does not contact the daemon (that starts on initialized).
func (s *Server) initialize(c *call) (any, error) {
	var p protocol.InitializeParams
	if err := unmarshal(c.req, &p); err != nil {
		return nil, err
	}
	var raw struct {
		InitializationOptions json.RawMessage `json:"initializationOptions"`
	}
	json.Unmarshal(*c.req.Params, &raw)

	root, err := s.resolveRoot(&p)
	if err != nil {
		return nil, &jsonrpc2.Error{Code: CodeRequestFailed, Message: err.Error()}
	}
	caps := clientCaps{}
	if w := p.Capabilities.Window; w != nil {
		caps.workDoneProgress = w.WorkDoneProgress != nil && *w.WorkDoneProgress
		caps.showDocument = w.ShowDocument != nil && w.ShowDocument.Support
	}
	if w := p.Capabilities.Workspace; w != nil {
		caps.configuration = w.Configuration != nil && *w.Configuration
	}
	caps.changeAnnotations = changeAnnotationSupport(*c.req.Params)
	caps.markdownHover = true
	if td := p.Capabilities.TextDocument; td != nil && td.Hover != nil && len(td.Hover.ContentFormat) > 0 {
		caps.markdownHover = false
		for _, f := range td.Hover.ContentFormat {
			caps.markdownHover = caps.markdownHover || f == protocol.MarkupKindMarkdown
		}
	}
	settings := DefaultSettings
	for _, msg := range settings.apply(raw.InitializationOptions) {
		s.log.Warn(msg)
	}

	s.mu.Lock()
	s.root, s.caps, s.settings, s.hover, s.initialized = root, caps, settings, settings.Hover, true
	s.mu.Unlock()
	s.log.Info("initialized", "repo", root, "client", clientName(&p), "settings", fmt.Sprintf("%+v", settings))
	if p.ProcessID != nil && *p.ProcessID > 0 {
		pid := int(*p.ProcessID)
		s.spawn(func() { s.watchParent(pid) })
	}

	change := protocol.TextDocumentSyncKindIncremental
	result := protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			TextDocumentSync: protocol.TextDocumentSyncOptions{
				OpenClose: &protocol.True,
				Change:    &change,
				Save:      protocol.SaveOptions{IncludeText: &protocol.True},
			},
			CodeActionProvider: protocol.CodeActionOptions{
				CodeActionKinds: []protocol.CodeActionKind{CodeActionKind},
			},
			ExecuteCommandProvider: &protocol.ExecuteCommandOptions{
				WorkDoneProgressOptions: protocol.WorkDoneProgressOptions{WorkDoneProgress: &protocol.True},
				Commands:                Commands,
			},
		},
		ServerInfo: &protocol.InitializeResultServerInfo{Name: "lore"},
	}
	if settings.Hover {
		result.Capabilities.HoverProvider = true
	}
	if s.opts.Version != "" {
		v := s.opts.Version
		result.ServerInfo.Version = &v
	}
	return result, nil
}

func clientName(p *protocol.InitializeParams) string {
	if p.ClientInfo == nil {
		return "unknown"
	}
	if p.ClientInfo.Version != nil {
		return p.ClientInfo.Name + " " + *p.ClientInfo.Version
	}
	return p.ClientInfo.Name
}

// resolveRoot picks the repository: --repo, else rootUri, else the first
// workspace folder, else rootPath, else the working directory.
func (s *Server) resolveRoot(p *protocol.InitializeParams) (string, error) {
	if s.opts.Root != "" {
		return config.FindRoot(s.opts.Root)
	}
	dir := ""
	switch {
	case p.RootURI != nil && *p.RootURI != "":
		dir, _ = uriPath(*p.RootURI)
	case len(p.WorkspaceFolders) > 0:
		dir, _ = uriPath(p.WorkspaceFolders[0].URI)
	case p.RootPath != nil && *p.RootPath != "":
		dir = *p.RootPath
	}
	return config.FindRoot(dir) // "" is the working directory
}

// initializedNotification pulls the "lore" settings section and connects
// to the daemon (starting it if needed) in the background.
func (s *Server) initializedNotification() {
	s.spawn(func() {
		if _, err := s.daemon(s.ctx); err != nil {
			s.log.Debug("daemon not connected", "error", err)
		}
	})
	s.pullConfiguration()
}

// pullConfiguration asks the editor for the "lore" section of its
// settings (workspace/configuration) and applies it on top of the
// initialization options.
func (s *Server) pullConfiguration() {
	s.mu.Lock()
	ok := s.caps.configuration
	s.mu.Unlock()
	if !ok {
		return
	}
	section := "lore"
	var res []json.RawMessage
	params := protocol.ConfigurationParams{Items: []protocol.ConfigurationItem{{Section: &section}}}
	if err := s.callClient(s.ctx, "workspace/configuration", params, &res); err != nil {
		s.log.Warn("workspace/configuration", "error", err)
		return
	}
	if len(res) > 0 {
		s.applySettings(res[0])
	}
}

func (s *Server) applySettings(raw json.RawMessage) {
	s.mu.Lock()
	bad := s.settings.apply(raw)
	st := s.settings
	s.mu.Unlock()
	for _, msg := range bad {
		s.log.Warn(msg)
		s.showMessage(msgWarning, msg)
	}
	s.log.Info("settings", "settings", fmt.Sprintf("%+v", st))
}

// didChangeConfiguration applies pushed settings ({"lore": {...}}), or
// pulls them when the editor only signals a change.
func (s *Server) didChangeConfiguration(req *jsonrpc2.Request) error {
	var p struct {
		Settings json.RawMessage `json:"settings"`
	}
	if req.Params != nil {
		json.Unmarshal(*req.Params, &p)
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(p.Settings, &probe) == nil {
		if lore, ok := probe["lore"]; ok && strings.HasPrefix(strings.TrimSpace(string(lore)), "{") {
			s.applySettings(lore)
			return nil
		}
	}
	s.spawn(s.pullConfiguration)
	return nil
}

// parentPoll is how often the editor's process is checked.
const parentPoll = 5 * time.Second

// watchParent ends the session when the editor's process (initialize's
// processId) is gone, as the spec asks: an editor that crashed does not
// leave its server behind.
func (s *Server) watchParent(pid int) {
	t := time.NewTicker(parentPoll)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				s.log.Info("the editor's process is gone; exiting", "pid", pid)
				select {
				case s.exit <- 1:
				default:
				}
				return
			}
		}
	}
}
