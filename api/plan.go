package api

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Plans: the local model, with the whole repository in its context, writes
// the plan of a change (steps, files, risks) as a turn of a planning
// session; the larger tier then writes the code from it (lore generate).
const (
	// MethodPlan writes a plan (PlanParams → PlanResult). Text streams as
	// ask/token.
	MethodPlan = "plan"
)

// PlanParams asks for the plan of a goal.
type PlanParams struct {
	Goal string `json:"goal"`
	// Session continues a planning session ("" starts "plan-" + a slug of
	// the goal, or continues it when it exists).
	Session   string `json:"session,omitempty"`
	MaxTokens int    `json:"max_tokens,omitempty"` // 0 = DefaultPlanTokens
	// Location is the code the goal is about (an editor's selection).
	Location *Location `json:"location,omitempty"`
	Stream   string    `json:"stream,omitempty"`
}

// DefaultPlanTokens bounds a plan's length unless asked otherwise.
const DefaultPlanTokens = 1024

// PlanResult is a written plan.
type PlanResult struct {
	AskResult
	Name    string   `json:"name"`    // the plan's name: its session's
	Goal    string   `json:"goal"`    // as asked
	Named   []string `json:"named"`   // files the plan names that exist
	Unknown []string `json:"unknown"` // path-like names that do not: new files, or mistakes
	// Markdown is the plan as a document the user edits and lore
	// generate reads (PlanMarkdown).
	Markdown string `json:"markdown"`
}

// Plan asks the daemon for a plan; onToken gets its text as it comes.
func (c *Client) Plan(ctx context.Context, p PlanParams, onToken func(string), onProgress func(Progress)) (*PlanResult, error) {
	var res PlanResult
	err := c.streamCall(ctx, MethodPlan, func(id string) any { p.Stream = id; return p }, &res, onToken, onProgress)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

var slugDrop = regexp.MustCompile(`[^a-z0-9]+`)

// PlanName is the default name of a goal's plan: "plan-" and the goal's
// first words, a valid session name.
func PlanName(goal string) string {
	s := strings.Trim(slugDrop.ReplaceAllString(strings.ToLower(goal), "-"), "-")
	words := strings.Split(s, "-")
	s = strings.Join(words[:min(len(words), 6)], "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" {
		s = "untitled"
	}
	return "plan-" + s
}

// PlanQuestion is what the local model is asked for a goal.
func PlanQuestion(goal string) string {
	return "Write a plan for this change to the repository: " + strings.TrimSpace(goal) + "\n\n" +
		"Another, larger model will write the code from your plan and sees only the files you list, so be exact. " +
		"Answer in Markdown with these sections:\n" +
		"## Steps\nnumbered, each a concrete change (which function or type, what it must do)\n" +
		"## Files\none line per file: `path/from/the/root` (change, create or delete): why\n" +
		"## Risks\nwhat could break, what to test\n"
}

// pathToken matches what may be a file path in a plan: a word with a
// slash or a file extension, in backticks or not.
var pathToken = regexp.MustCompile("`([^`\\s]+)`|(?:^|[\\s(\\[\"'])((?:[A-Za-z0-9_.\\-]+/)*[A-Za-z0-9_\\-][A-Za-z0-9_.\\-]*\\.[A-Za-z0-9]{1,8})(?:[\\s)\\]\"',:;.]|$)")

// PlanPaths returns the files a plan names: the ones that exist (isFile
// says which) in order of first mention, and the path-like names that do
// not (new files the plan creates, or mistakes to flag). Backticked names
// count whether they look like paths or not; bare words only when they
// hold a slash or an extension, and bare ones that do not exist are
// flagged only when they hold a slash (a sentence's "e.g." is no path).
func PlanPaths(plan string, isFile func(p string) bool) (named, unknown []string) {
	named, unknown = []string{}, []string{}
	seen := map[string]bool{}
	for _, line := range strings.Split(plan, "\n") {
		for _, m := range pathToken.FindAllStringSubmatch(line, -1) {
			p, quoted := m[1], true
			if p == "" {
				p, quoted = m[2], false
			}
			p = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(p), "./"), ".")
			if i := strings.IndexAny(p, ":#"); i > 0 { // path:line, path#L3
				p = p[:i]
			}
			if p == "" || seen[p] || strings.Contains(p, "://") || path.IsAbs(p) || strings.HasPrefix(p, "..") {
				continue
			}
			seen[p] = true
			switch {
			case isFile(p):
				named = append(named, p)
			case quoted && (strings.Contains(p, "/") || path.Ext(p) != "") || !quoted && strings.Contains(p, "/"):
				unknown = append(unknown, p)
			}
		}
	}
	slices.Sort(unknown)
	return named, unknown
}

// PlanMarkdown is the plan's document: the goal, the local model's plan,
// and the check of the paths it names. lore generate reads the whole
// document as the plan; the user may edit any of it.
func PlanMarkdown(name, goal, plan string, named, unknown []string, at time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Plan %s\n\nGoal: %s\n\n<!-- Written by the local model on %s. Edit freely: `lore generate --plan %s` sends this whole file. -->\n\n",
		name, strings.TrimSpace(goal), at.UTC().Format("2006-01-02 15:04 UTC"), name)
	b.WriteString(strings.TrimSpace(plan))
	b.WriteString("\n\n## Path check\n\n")
	if len(named) == 0 && len(unknown) == 0 {
		b.WriteString("The plan names no files: add them under ## Files, or the larger tier gets only the repository map.\n")
	}
	for _, p := range named {
		fmt.Fprintf(&b, "- `%s`: exists\n", p)
	}
	for _, p := range unknown {
		fmt.Fprintf(&b, "- `%s`: NOT IN THE TREE (a new file, or a wrong path: fix it before generating)\n", p)
	}
	return b.String()
}

// LoreBinary finds the lore executable: explicit when set, else next to
// this executable, else in PATH. The LSP bridge runs `lore generate` with
// it.
func LoreBinary(explicit string) (string, error) { return loreBinary(explicit) }
