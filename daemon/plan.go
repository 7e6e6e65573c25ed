package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"lore/api"
	"lore/config"
)

// planMethod writes a plan: a turn of the goal's planning session, asked
// in a fixed shape (steps, files, risks), with the paths it names checked
// against the work tree.
func (d *Daemon) planMethod(c *call, p api.PlanParams) (*api.PlanResult, error) {
	goal := strings.TrimSpace(p.Goal)
	if goal == "" {
		return nil, invalidParams("the goal is empty: say what the change must do")
	}
	name := p.Session
	if name == "" {
		name = api.PlanName(goal)
	}
	if err := checkSessionName(name); err != nil {
		return nil, err
	}
	if p.MaxTokens < 0 {
		return nil, invalidParams("max_tokens is negative")
	}
	if p.MaxTokens == 0 {
		p.MaxTokens = api.DefaultPlanTokens
	}
	ask := api.AskParams{Question: api.PlanQuestion(goal), MaxTokens: p.MaxTokens, Session: name, Stream: p.Stream, Location: p.Location}
	if err := checkAsk(ask); err != nil {
		return nil, err
	}
	res, err := d.serveAsk(c, ask)
	if err != nil {
		return nil, err
	}
	root := d.opts.Repo
	isFile := func(rel string) bool {
		full := filepath.Join(root, filepath.FromSlash(rel))
		if _, inside := config.Below(root, full); !inside {
			return false
		}
		st, err := os.Lstat(full)
		return err == nil && st.Mode().IsRegular()
	}
	named, unknown := api.PlanPaths(res.Text, isFile)
	return &api.PlanResult{AskResult: *res, Name: name, Goal: goal, Named: named, Unknown: unknown,
		Markdown: api.PlanMarkdown(name, goal, res.Text, named, unknown, time.Now())}, nil
}
