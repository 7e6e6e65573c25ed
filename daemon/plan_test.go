package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lore/api"
	"lore/config"
)

// TestPlanIsASessionTurn: a plan is a turn of its planning session, named
// after the goal, with the paths it names checked against the tree; a
// second plan in the same session continues it.
func TestPlanIsASessionTurn(t *testing.T) {
	e := newEnv(t)
	e.vars = append(e.vars, config.EnvWatch+"=off")
	d := e.start()
	d.ready(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var streamed strings.Builder
	res, err := d.client.Plan(ctx, api.PlanParams{Goal: "Make Gamma return an error", MaxTokens: 16}, func(s string) { streamed.WriteString(s) }, nil)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, d.stderr)
	}
	if res.Name != "plan-make-gamma-return-an-error" || res.Session != res.Name || res.SessionTurn != 1 || streamed.String() != res.Text {
		t.Fatalf("plan result: %+v", res)
	}
	if !strings.Contains(res.Markdown, "Goal: Make Gamma return an error") || !strings.Contains(res.Markdown, "## Path check") ||
		!strings.Contains(res.Markdown, res.Text[:min(len(res.Text), 10)]) {
		t.Errorf("markdown:\n%s", res.Markdown)
	}
	s, err := d.client.Session(ctx, res.Name)
	if err != nil || len(s.Transcript) != 1 || !strings.Contains(s.Transcript[0].Question, "Make Gamma return an error") {
		t.Fatalf("session %+v, %v", s, err)
	}
	res2, err := d.client.Plan(ctx, api.PlanParams{Goal: "Also cover Beta", Session: res.Name, MaxTokens: 8}, nil, nil)
	if err != nil || res2.SessionTurn != 2 || res2.Name != res.Name {
		t.Fatalf("second plan in the session: %+v, %v", res2, err)
	}
	if _, err := d.client.Plan(ctx, api.PlanParams{Goal: "  "}, nil, nil); err == nil || !strings.Contains(err.Error(), "goal is empty") {
		t.Errorf("empty goal: %v", err)
	}
	d.stop(t)
}
