package daemon_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/api"
	"lore/config"
	"lore/internal/testenv"
)

func (d *daemon) askSession(t *testing.T, session, q string) *api.AskResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := d.client.Ask(ctx, api.AskParams{Question: q, MaxTokens: 12, Session: session}, nil, nil)
	if err != nil {
		t.Fatalf("ask in session %s: %v\n%s", session, err, d.stderr)
	}
	return res
}

// TestSessionSurvivesRestart: a planning session keeps its earlier turns in
// the context from their saved KV, across a restart; once the repository
// changed, its transcript is replayed on the fresh pack and the answer says
// so.
func TestSessionSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	e.vars = append(e.vars, config.EnvWatch+"=off")
	d := e.start()
	st := d.ready(t)

	r1 := d.askSession(t, "plan-1", "How should Gamma change?")
	if r1.Session != "plan-1" || r1.SessionTurn != 1 || r1.SessionReplayed || r1.CachedTokens != st.PackTokens {
		t.Fatalf("first turn: %+v", r1)
	}
	r2 := d.askSession(t, "plan-1", "And Beta?")
	// The first turn's question and answer come from its saved KV.
	if r2.SessionTurn != 2 || r2.SessionReplayed || r2.CachedTokens-st.PackTokens < r1.PromptTokens-st.PackTokens {
		t.Fatalf("second turn reused %d suffix tokens, the first turn's prompt had %d: %+v", r2.CachedTokens-st.PackTokens, r1.PromptTokens-st.PackTokens, r2)
	}
	if r2.PromptTokens <= r1.PromptTokens+r1.GeneratedTokens {
		t.Fatalf("second turn's prompt (%d tokens) does not hold the first turn (%d + %d)", r2.PromptTokens, r1.PromptTokens, r1.GeneratedTokens)
	}
	d.stop(t)

	d = e.start()
	d.ready(t)
	r3 := d.askSession(t, "plan-1", "What first?")
	if r3.SessionTurn != 3 || r3.SessionReplayed || r3.CachedTokens-st.PackTokens < r2.PromptTokens-st.PackTokens {
		t.Fatalf("after a restart, the third turn reused %d suffix tokens (second turn's prompt: %d): %+v", r3.CachedTokens-st.PackTokens, r2.PromptTokens-st.PackTokens, r3)
	}

	// The repository moves on: the transcript is replayed.
	gamma := filepath.Join(e.repo, "gamma", "gamma.go")
	if err := os.WriteFile(gamma, []byte(strings.Replace(testenv.FixtureFiles["gamma/gamma.go"], "!", "!!", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r4 := d.askSession(t, "plan-1", "Still the plan?")
	if r4.SessionTurn != 4 || !r4.SessionReplayed || r4.PackVersion == r3.PackVersion {
		t.Fatalf("after an edit: %+v", r4)
	}
	if r5 := d.askSession(t, "plan-1", "Next?"); r5.SessionReplayed || r5.CachedTokens-r5.PrefilledTokens <= r4.CachedTokens-r4.PrefilledTokens {
		t.Fatalf("the turn after the replay did not reuse it: %+v (replay turn %+v)", r5, r4)
	}

	ctx := context.Background()
	list, err := d.client.Sessions(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "plan-1" || list[0].Turns != 5 || list[0].KVTokens == 0 {
		t.Fatalf("sessions: %+v, %v", list, err)
	}
	s, err := d.client.Session(ctx, "plan-1")
	if err != nil || len(s.Transcript) != 5 || s.Transcript[0].Question != "How should Gamma change?" || s.Transcript[0].Answer != r1.Text || !s.Transcript[3].Replayed {
		t.Fatalf("transcript: %+v, %v", s, err)
	}
	if st, _ := d.client.Status(ctx); st.Sessions != 1 {
		t.Fatalf("status lists %d sessions", st.Sessions)
	}
	if err := d.client.DeleteSession(ctx, "plan-1"); err != nil {
		t.Fatal(err)
	}
	var ae *api.Error
	if _, err := d.client.Session(ctx, "plan-1"); !errors.As(err, &ae) || ae.Code != api.CodeNotFound {
		t.Fatalf("deleted session: %v", err)
	}
	if _, err := d.client.Ask(ctx, api.AskParams{Question: "x", Session: "../evil"}, nil, nil); err == nil || !strings.Contains(err.Error(), "session name") {
		t.Fatalf("bad session name: %v", err)
	}
	d.stop(t)
}
