package lsp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/api"
	"lore/config"
)

// lore.generate hands a plan to the larger tier by running `lore generate
// --json --edits` (one implementation for the command line and the
// editors; the API key stays in the environment of the processes the user
// started, and the bridge stays free of the providers' SDKs), then sends
// the edits to the editor as one workspace/applyEdit, which the editor
// previews (VS Code) or confirms (the Neovim plugin) before applying.
// Nothing is written by the server itself.

// ApplyEditTimeout bounds the editor's answer to workspace/applyEdit: the
// user may be reading a preview.
const ApplyEditTimeout = 10 * time.Minute

// GenerateTimeout bounds one `lore generate` run (the larger tier's own
// timeout, its retries and the check command come within it).
const GenerateTimeout = 30 * time.Minute

// generateReport is the part of `lore generate --json` the bridge reads.
type generateReport struct {
	Plan          string `json:"plan"`
	BlocksApplied int    `json:"blocks_applied"`
	RepairRounds  int    `json:"repair_rounds"`
	Usage         struct {
		Input  int64 `json:"input_tokens"`
		Cached int64 `json:"cached_tokens"`
		Output int64 `json:"output_tokens"`
	} `json:"usage"`
	Edits []struct {
		Path    string `json:"path"`
		Action  string `json:"action"`
		OldHash string `json:"old_hash"`
		Text    string `json:"text"`
	} `json:"edits"`
}

// GenerateResult is what lore.generate ends with (its progress's end and
// the showMessage say the same).
type GenerateResult struct {
	Applied bool     `json:"applied"`
	Files   []string `json:"files"`
	Reason  string   `json:"reason,omitempty"` // why not applied
}

func (s *Server) generateCommand(c *call, args CommandArgs, token json.RawMessage) (any, error) {
	root := s.repoRoot()
	if args.Plan != "" && !planExists(root, args.Plan) {
		return nil, invalidParams("%s: no plan called %q: write one with lore.plan first", CommandGenerate, args.Plan)
	}
	bin, err := api.LoreBinary(s.opts.LoreBinary)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(s.ctx, GenerateTimeout)
	s.mu.Lock()
	s.nextJob++
	id := s.nextJob
	s.jobs[id] = cancel
	s.mu.Unlock()
	done := func() {
		s.mu.Lock()
		delete(s.jobs, id)
		s.mu.Unlock()
		cancel()
	}
	c.after = func() {
		if !s.spawn(func() { defer done(); s.runGenerate(ctx, cancel, bin, root, args, token) }) {
			done()
		}
	}
	out := &CommandStarted{Started: true, Command: CommandGenerate, Question: "generate " + args.Plan + args.PlanFile}
	if hasToken(token) {
		out.Token = token
	}
	return out, nil
}

func (s *Server) runGenerate(ctx context.Context, cancel context.CancelFunc, bin, root string, args CommandArgs, token json.RawMessage) *GenerateResult {
	w := s.startProgress(ctx, token, true, "lore: generating with the larger tier", cancel)
	fail := func(msg string) *GenerateResult {
		w.end(msg)
		if ctx.Err() != nil {
			s.logMessage(msgInfo, "lore.generate: cancelled; nothing was applied")
		} else {
			s.showMessage(msgError, "lore.generate failed: "+msg)
		}
		return &GenerateResult{Reason: msg}
	}
	argv := []string{"generate", "--repo", root, "--json", "--edits"}
	if args.Plan != "" {
		argv = append(argv, "--plan", args.Plan)
	}
	if args.PlanFile != "" {
		argv = append(argv, "--plan-file", args.PlanFile)
	}
	s.flushBuffers(ctx)
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Dir = root
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if w != nil {
		msg := "the larger tier is writing the code"
		s.notify("$/progress", progressParams{Token: w.token, Value: protocol.WorkDoneProgressReport{Kind: "report", Message: &msg}})
	}
	runErr := cmd.Run()
	if runErr != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\nlore: "); i >= 0 {
			msg = msg[i+1:]
		}
		msg = strings.TrimPrefix(msg, "lore: ")
		if msg == "" {
			msg = runErr.Error()
		}
		return fail(msg)
	}
	var rep generateReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return fail(fmt.Sprintf("reading lore generate's report: %v", err))
	}
	edit, files, err := s.workspaceEdit(root, rep)
	if err != nil {
		return fail(err.Error())
	}
	var res struct {
		Applied       bool   `json:"applied"`
		FailureReason string `json:"failureReason"`
	}
	label := "lore: edits of the larger tier"
	if rep.Plan != "" {
		label += " for plan " + rep.Plan
	}
	actx, acancel := context.WithTimeout(ctx, ApplyEditTimeout)
	defer acancel()
	if err := s.conn.Call(actx, "workspace/applyEdit", map[string]any{"label": label, "edit": edit}, &res); err != nil {
		return fail("workspace/applyEdit: " + err.Error())
	}
	if !res.Applied {
		reason := res.FailureReason
		if reason == "" {
			reason = "the editor declined the edit"
		}
		w.end("not applied: " + reason)
		s.showMessage(msgWarning, "lore.generate: not applied: "+reason)
		return &GenerateResult{Files: files, Reason: reason}
	}
	msg := fmt.Sprintf("applied %d blocks to %s (%d repair rounds; %d input tokens, %d cached, %d output)",
		rep.BlocksApplied, strings.Join(files, ", "), rep.RepairRounds, rep.Usage.Input, rep.Usage.Cached, rep.Usage.Output)
	w.end(msg)
	s.showMessage(msgInfo, "lore.generate: "+msg)
	return &GenerateResult{Applied: true, Files: files}
}

// changeAnnotationSupport reads initialize's
// capabilities.workspace.workspaceEdit.changeAnnotationSupport.
func changeAnnotationSupport(params json.RawMessage) bool {
	var p struct {
		Capabilities struct {
			Workspace struct {
				WorkspaceEdit struct {
					ChangeAnnotationSupport json.RawMessage `json:"changeAnnotationSupport"`
				} `json:"workspaceEdit"`
			} `json:"workspace"`
		} `json:"capabilities"`
	}
	if json.Unmarshal(params, &p) != nil {
		return false
	}
	a := p.Capabilities.Workspace.WorkspaceEdit.ChangeAnnotationSupport
	return len(a) > 0 && string(a) != "null"
}

// annotatedEdit is a text edit with a change annotation.
type annotatedEdit struct {
	Range        protocol.Range `json:"range"`
	NewText      string         `json:"newText"`
	AnnotationID string         `json:"annotationId,omitempty"`
}

// editAnnotation is the one change annotation of lore.generate's edits.
const editAnnotation = "lore.generate"

// workspaceEdit turns the edits into document changes. A file the edits
// were not made from (its open buffer or the disk holds other text now) is
// refused: the edit would undo the user's changes.
func (s *Server) workspaceEdit(root string, rep generateReport) (map[string]any, []string, error) {
	var changes []any
	var files []string
	null := json.RawMessage("null")
	s.mu.Lock()
	annotate := s.caps.changeAnnotations
	s.mu.Unlock()
	ann := ""
	if annotate {
		ann = editAnnotation
	}
	op := func(m map[string]any) map[string]any {
		if ann != "" {
			m["annotationId"] = ann
		}
		return m
	}
	for _, e := range rep.Edits {
		abs := filepath.Join(root, filepath.FromSlash(e.Path))
		uri := fileURI(abs)
		files = append(files, e.Path)
		switch e.Action {
		case "create":
			changes = append(changes,
				op(map[string]any{"kind": "create", "uri": uri, "options": map[string]bool{"overwrite": false, "ignoreIfExists": false}}),
				map[string]any{"textDocument": map[string]any{"uri": uri, "version": null},
					"edits": []annotatedEdit{{Range: protocol.Range{}, NewText: e.Text, AnnotationID: ann}}})
		case "delete", "modify":
			cur, version, err := s.currentText(uri, abs)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", e.Path, err)
			}
			sum := sha256.Sum256([]byte(cur))
			if hex.EncodeToString(sum[:]) != e.OldHash {
				return nil, nil, fmt.Errorf("%s changed since the edits were generated (unsaved changes in the editor?): save or undo them, then run lore.generate again", e.Path)
			}
			if e.Action == "delete" {
				changes = append(changes, op(map[string]any{"kind": "delete", "uri": uri}))
				continue
			}
			changes = append(changes, map[string]any{"textDocument": map[string]any{"uri": uri, "version": version},
				"edits": []annotatedEdit{{Range: protocol.Range{End: endOf(cur)}, NewText: e.Text, AnnotationID: ann}}})
		default:
			return nil, nil, fmt.Errorf("%s: unknown action %q", e.Path, e.Action)
		}
	}
	if len(changes) == 0 {
		return nil, nil, fmt.Errorf("the larger tier's edits change nothing")
	}
	out := map[string]any{"documentChanges": changes}
	if ann != "" {
		out["changeAnnotations"] = map[string]any{ann: map[string]any{
			"label": "lore: edits of the larger tier", "needsConfirmation": true,
			"description": "review the diff, then apply",
		}}
	}
	return out, files, nil
}

// currentText is a file's text as the editor has it (an open buffer, with
// its version) or as the disk does (version null).
func (s *Server) currentText(uri, abs string) (string, any, error) {
	s.docs.mu.Lock()
	d := s.docs.byURI[uri]
	var text string
	var version any = json.RawMessage("null")
	if d != nil && d.open {
		text, version = d.text, d.version
	}
	s.docs.mu.Unlock()
	if d != nil && d.open {
		return text, version, nil
	}
	b, err := os.ReadFile(abs)
	return string(b), version, err
}

// endOf is the position just past a text's last character.
func endOf(text string) protocol.Position {
	line := strings.Count(text, "\n")
	last := text[strings.LastIndexByte(text, '\n')+1:]
	return protocol.Position{Line: protocol.UInteger(line), Character: protocol.UInteger(len(utf16.Encode([]rune(last))))}
}

// GenerateActionTitle is the code action that runs lore.generate.
const GenerateActionTitle = "Generate the plan's code with the larger tier"

// generateAction is the code action of lore.generate on the newest plan:
// offered only when the settings name a larger tier and a plan exists.
// It reads the settings files and the plans folder, no daemon.
func generateAction(root string) (protocol.CodeAction, bool) {
	s, err := config.Load(root)
	if err != nil || s.Handoff.Model == "" {
		return protocol.CodeAction{}, false
	}
	entries, err := os.ReadDir(config.PlansDir(root))
	if err != nil {
		return protocol.CodeAction{}, false
	}
	newest, at := "", time.Time{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		if newest == "" || info.ModTime().After(at) {
			newest, at = strings.TrimSuffix(e.Name(), ".md"), info.ModTime()
		}
	}
	if newest == "" {
		return protocol.CodeAction{}, false
	}
	title := GenerateActionTitle + " (" + newest + ")"
	return protocol.CodeAction{Title: title, Command: &protocol.Command{Title: title, Command: CommandGenerate,
		Arguments: []any{CommandArgs{Plan: newest}}}}, true
}
