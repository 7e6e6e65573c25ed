// Package handoff hands code generation to a larger tier: it takes a plan
// the local model wrote, sends the larger tier the plan, the full text of
// the files the plan names and the repository map (secrets withheld or
// replaced by placeholders), parses the edit blocks it answers with
// (handoff/edit), sends failed blocks back for repair, runs the optional
// check command on the edits in a scratch worktree, and then shows the
// edits as a unified diff or writes them, all files or none.
package handoff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"lore/api"
	"lore/config"
	"lore/handoff/edit"
	"lore/handoff/tier"
	"lore/ingest/rank"
	"lore/ingest/scan"
)

// MaxRepairRounds bounds the rounds that send failed blocks back.
const MaxRepairRounds = 2

// repoMapBudget is the repository map's share of the request, in tokens
// (estimated): the larger tier needs the shape of the repository, not its
// text.
const repoMapBudget = 2048

// Options are one hand-off.
type Options struct {
	Root     string
	Settings *config.Settings
	Plan     string   // the plan's Markdown
	PlanName string   // for the report
	Extra    []string // more files to send (retrieved for the plan)
	DryRun   bool     // build the request and return it; send nothing
	Apply    bool     // write the edits (else only the diff)
	// WithEdits puts the changed files' new texts in the report.
	WithEdits bool
	Getenv    func(string) string
	// Status, when set, is told what the hand-off is doing ("sending 12
	// files", "repair round 1"); OnText gets the answer as it streams.
	Status func(string)
	OnText func(string)
}

// FileChange is one file in the report.
type FileChange struct {
	Path   string `json:"path"`
	Action string `json:"action"` // modify, create, delete
}

// Report is what a hand-off did (lore generate --json).
type Report struct {
	Plan          string       `json:"plan,omitempty"`
	Provider      string       `json:"provider"`
	Model         string       `json:"model"`
	FilesSent     []string     `json:"files_sent"`
	FilesWithheld []withheld   `json:"files_withheld"`
	UnknownPaths  []string     `json:"unknown_paths"` // named by the plan, not in the tree
	Redacted      int          `json:"redacted"`      // distinct secrets replaced by placeholders
	FilesChanged  []FileChange `json:"files_changed"`
	BlocksApplied int          `json:"blocks_applied"`
	BlocksFailed  int          `json:"blocks_failed"`
	RepairRounds  int          `json:"repair_rounds"`
	Check         *CheckResult `json:"check,omitempty"`
	Usage         tier.Usage   `json:"usage"`
	// SentTokens estimates the tokens of the request's text (4 bytes a
	// token), PackTokens those of every file the pack may hold, and
	// SentShare their ratio: the larger tier should get the plan's files,
	// not the repository.
	SentTokens int      `json:"sent_tokens"`
	PackTokens int      `json:"pack_tokens"`
	SentShare  float64  `json:"sent_share"`
	Seconds    float64  `json:"seconds"`
	Applied    bool     `json:"applied"` // the edits were written
	Diff       string   `json:"diff,omitempty"`
	Request    string   `json:"request,omitempty"` // the dry run's request
	Failures   []string `json:"failures,omitempty"`
	// Edits are the changed files' new texts, for editors that apply
	// them as a workspace edit (Options.WithEdits).
	Edits []FileEdit `json:"edits,omitempty"`
}

// FileEdit is one file's edit with its new text.
type FileEdit struct {
	Path    string `json:"path"`
	Action  string `json:"action"`   // modify, create, delete
	OldHash string `json:"old_hash"` // SHA-256 (hex) of the text the edit was made from; "" for a new file
	Text    string `json:"text"`     // the new text ("" for a deletion)
}

// FailedError is a hand-off whose edits did not all apply after the repair
// rounds: nothing was written.
type FailedError struct{ Failures []string }

func (e *FailedError) Error() string {
	return fmt.Sprintf("%d edit block(s) still failed after %d repair rounds; nothing was written:\n  %s",
		len(e.Failures), MaxRepairRounds, strings.Join(e.Failures, "\n  "))
}

func estimate(s string) int { return (len(s) + 3) / 4 }

// Run carries out a hand-off. On any error nothing is written.
func Run(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	s := o.Settings
	if err := s.ValidateHandoff(); err != nil {
		return nil, err
	}
	h := s.Handoff
	format, err := edit.ParseFormat(h.EditFormat)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(o.Plan) == "" {
		return nil, errors.New("the plan is empty: write one with `ask --plan \"goal\"` or pass --plan-file")
	}
	status := o.Status
	if status == nil {
		status = func(string) {}
	}
	rep := &Report{Plan: o.PlanName, Provider: h.Provider, Model: h.Model, FilesSent: []string{}, FilesWithheld: []withheld{},
		UnknownPaths: []string{}, FilesChanged: []FileChange{}}
	red, err := NewRedactor(h.Redact)
	if err != nil {
		return nil, err
	}

	// The tree as the pack sees it: what may be sent, and the map.
	status("scanning the repository")
	so := scan.SettingsOptions(s)
	res, err := scan.Scan(ctx, o.Root, so)
	if err != nil {
		return nil, err
	}
	root := res.Root
	judge := scan.Judge(root, so)
	for _, f := range res.Files {
		rep.PackTokens += estimate(string(f.Content))
	}
	isFile := func(p string) bool {
		st, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
		return err == nil && st.Mode().IsRegular()
	}
	named, unknown := api.PlanPaths(o.Plan, isFile)
	rep.UnknownPaths = append(rep.UnknownPaths, unknown...)
	for _, p := range o.Extra {
		if isFile(p) && !slices.Contains(named, p) {
			named = append(named, p)
		}
	}
	personal := map[string]float64{}
	for _, p := range named {
		personal[p] = 1
	}
	repoMap := rank.RepoMap(rank.Rank(res.Files, rank.Options{Personalize: personal}), repoMapBudget, estimate)

	// The files: read now, judged as the pack would judge them, redacted.
	st := &state{root: root, red: red, judge: judge, view: map[string]string{}, real: map[string]string{},
		hashes: map[string]string{}, held: map[string]string{}}
	var sent []sentFile
	for _, p := range named {
		text, ok, err := st.load(p)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		sent = append(sent, sentFile{Path: p, Text: text})
		rep.FilesSent = append(rep.FilesSent, p)
	}
	for _, p := range sortedKeys(st.held) {
		rep.FilesWithheld = append(rep.FilesWithheld, withheld{Path: p, Reason: st.held[p]})
	}
	planText, _ := red.Redact("plan.md", o.Plan)
	mapText, _ := red.Redact("map.txt", repoMap)
	req := tier.Request{
		System: systemPrompt(format),
		Files:  filesPart(mapText, sent, rep.FilesWithheld),
		Plan:   planPart(planText, unknown),
	}
	rep.SentTokens = estimate(req.System) + estimate(req.Files) + estimate(req.Plan)
	if rep.PackTokens > 0 {
		rep.SentShare = float64(rep.SentTokens) / float64(rep.PackTokens)
	}

	client, err := tier.New(tier.Config{Provider: h.Provider, BaseURL: h.BaseURL, Model: h.Model, KeyEnv: h.KeyEnv(),
		MaxTokens: h.MaxTokens, Timeout: h.Timeout, Getenv: o.Getenv})
	if err != nil {
		return nil, err
	}
	rep.Redacted = red.Count()
	if o.DryRun {
		text, err := client.DryRun(ctx, req)
		if err != nil {
			return nil, err
		}
		rep.Request = text
		rep.Seconds = time.Since(start).Seconds()
		return rep, nil
	}

	call := func(what string) (string, error) {
		status(fmt.Sprintf("%s: %s at %s (%d files, ~%d tokens)", what, h.Model, client.URL(), len(sent), rep.SentTokens))
		r, err := client.Stream(ctx, req, o.OnText)
		rep.Usage.Add(r.Usage)
		if err != nil {
			return "", contextHint(err, sent)
		}
		req.Turns = append(req.Turns, tier.Turn{Role: "assistant", Text: r.Text})
		return r.Text, nil
	}
	answer, err := call("generating")
	if err != nil {
		return nil, err
	}
	failures := st.apply(answer, format, rep)
	for round := 1; len(failures.note) > 0 && round <= MaxRepairRounds; round++ {
		rep.RepairRounds = round
		note, _ := red.Redact("note.md", failures.note)
		req.Turns = append(req.Turns, tier.Turn{Role: "user", Text: note})
		if answer, err = call(fmt.Sprintf("repair round %d", round)); err != nil {
			return nil, err
		}
		failures = st.apply(answer, format, rep)
	}
	if len(failures.lines) > 0 {
		rep.Failures = failures.lines
		rep.Seconds = time.Since(start).Seconds()
		return rep, &FailedError{Failures: failures.lines}
	}
	changes := st.changes()
	if len(changes) == 0 {
		return nil, errors.New("the larger tier's edits change nothing; nothing was written")
	}

	if h.Check != "" {
		status("checking the edits: " + h.Check)
		cr, err := RunCheck(ctx, root, h.Check, h.CheckTimeout, changes, st.hashes)
		if err != nil {
			return nil, err
		}
		rep.Check = cr
		if !cr.Passed && rep.RepairRounds <= MaxRepairRounds {
			rep.RepairRounds++
			out, _ := red.Redact("check.log", cr.Output)
			req.Turns = append(req.Turns, tier.Turn{Role: "user", Text: fmt.Sprintf(
				"Your edits applied, but the check command `%s` failed (%s). Its output:\n%s\n%s\n%s\n"+
					"Send edit blocks that fix this, against the files as your edits left them.", h.Check, cr.Status, fence(out), out, fence(out))})
			if answer, err = call("repairing the check's failure"); err != nil {
				return nil, err
			}
			if failures = st.apply(answer, format, rep); len(failures.lines) > 0 {
				rep.Failures = failures.lines
				return rep, &FailedError{Failures: failures.lines}
			}
			changes = st.changes()
			status("checking the edits again: " + h.Check)
			if cr, err = RunCheck(ctx, root, h.Check, h.CheckTimeout, changes, st.hashes); err != nil {
				return nil, err
			}
			rep.Check = cr
		}
		if !cr.Passed {
			rep.Seconds = time.Since(start).Seconds()
			rep.Diff = edit.UnifiedDiff(changes)
			return rep, fmt.Errorf("the check command `%s` still fails on the edits (%s); nothing was written:\n%s", h.Check, cr.Status, cr.Output)
		}
	}

	for _, c := range changes {
		action := "modify"
		switch {
		case c.Delete:
			action = "delete"
		case !c.Existed:
			action = "create"
		}
		rep.FilesChanged = append(rep.FilesChanged, FileChange{Path: c.Path, Action: action})
		if o.WithEdits {
			fe := FileEdit{Path: c.Path, Action: action, Text: c.New}
			if c.Existed {
				fe.OldHash = edit.Hash(c.Old)
			}
			rep.Edits = append(rep.Edits, fe)
		}
	}
	rep.Diff = edit.UnifiedDiff(changes)
	if o.Apply {
		if err := edit.WriteAll(root, changes, st.hashes); err != nil {
			if errors.Is(err, edit.ErrChanged) {
				return rep, fmt.Errorf("%w: rerun lore generate to make the edits against the files as they are now", err)
			}
			return rep, err
		}
		rep.Applied = true
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// contextHint adds to a context-length error what to drop: the largest
// files sent.
func contextHint(err error, sent []sentFile) error {
	var te *tier.Error
	if !errors.As(err, &te) || te.Kind != tier.ErrContextLength {
		return err
	}
	files := slices.Clone(sent)
	slices.SortFunc(files, func(a, b sentFile) int { return len(b.Text) - len(a.Text) })
	total := 0
	for _, f := range sent {
		total += estimate(f.Text)
	}
	var parts []string
	for _, f := range files[:min(5, len(files))] {
		parts = append(parts, fmt.Sprintf("%s (~%d tokens)", f.Path, estimate(f.Text)))
	}
	return fmt.Errorf("%w; the files sent hold ~%d tokens, the largest: %s. Drop files from the plan's list, split the plan, or use a model with a longer context",
		err, total, strings.Join(parts, ", "))
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
