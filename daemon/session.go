package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"lore/api"
	"lore/cache"
	"lore/engine"
)

// Planning sessions: a named conversation on top of the repository's
// prefix. Its record (transcript and suffix tokens) lives in the store
// under sessionKeyPrefix; the KV of its suffix, the cells after the prefix,
// is a snapshot named sessionSnapshot(name). A turn on the same prefix loads
// that KV instead of decoding the earlier turns again; once the repository
// has moved on, the transcript is replayed on the fresh pack instead.

const sessionKeyPrefix = "session/"

// answerEnd closes an answer in a session's transcript.
const answerEnd = "\n</answer>\n"

var sessionNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkSessionName(name string) error {
	if !sessionNameRE.MatchString(name) || strings.Contains(name, "..") {
		return invalidParams(fmt.Sprintf("session name %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", name))
	}
	return nil
}

func sessionSnapshot(name string) string { return "session-" + name }

// sessionRecord is what the store keeps of a session.
type sessionRecord struct {
	api.Session
	// The KV snapshot's suffix: made on the prefix of PrefixLen tokens
	// whose last segment's chain is PrefixVersion.
	PrefixVersion string         `json:"prefix_version"`
	PrefixLen     int            `json:"prefix_len"`
	Tokens        []engine.Token `json:"tokens"` // the suffix, answerEnd included
	KV            int            `json:"kv"`     // of Tokens, held by the snapshot
}

// sessionLocks serialises the turns of one session.
type sessionLocks struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

func (l *sessionLocks) lock(ctx context.Context, name string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]chan struct{}{}
	}
	ch, ok := l.locks[name]
	if !ok {
		ch = make(chan struct{}, 1)
		l.locks[name] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *Daemon) loadSession(name string) (*sessionRecord, bool, error) {
	b, ok, err := d.store.Get(sessionKeyPrefix + name)
	if err != nil || !ok {
		return nil, false, err
	}
	var rec sessionRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, false, fmt.Errorf("session %s: unreadable record: %w", name, err)
	}
	return &rec, true, nil
}

// sessionTurn is a session's next turn being answered.
type sessionTurn struct {
	rec      *sessionRecord
	history  []engine.Token   // the earlier turns, to go before the question
	resume   *engine.SeqState // their KV, when still valid
	replayed bool
	unlock   func()
}

func (t *sessionTurn) resumeState() *engine.SeqState {
	if t == nil {
		return nil
	}
	return t.resume
}

// openSession locks the session and prepares its next turn on the view's
// pack.
func (d *Daemon) openSession(ctx context.Context, name string, v *view) (*sessionTurn, error) {
	if err := checkSessionName(name); err != nil {
		return nil, err
	}
	unlock, err := d.sessionLocks.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	t := &sessionTurn{unlock: unlock}
	rec, ok, err := d.loadSession(name)
	if err != nil {
		d.log.Warn("session record unreadable: starting it over", "session", name, "err", err)
	}
	if !ok {
		now := time.Now().UTC()
		t.rec = &sessionRecord{Session: api.Session{SessionInfo: api.SessionInfo{Name: name, Created: now}, Transcript: []api.Turn{}}}
		return t, nil
	}
	t.rec = rec
	room := engine.QuestionRoom(d.eng.Info().ContextSize) / 2
	if rec.PrefixVersion == v.version && rec.PrefixLen == len(v.tokens) && len(rec.Tokens) <= room {
		t.history = rec.Tokens
		if h, state, err := d.store.LoadSnapshot(sessionSnapshot(name)); err == nil &&
			h.ModelFingerprint == d.eng.Info().Fingerprint && h.Settings == snapshotSettings(d.eng) &&
			len(h.Tokens) == rec.KV && slices.Equal(h.Tokens, rec.Tokens[:rec.KV]) {
			t.resume = &engine.SeqState{PrefixLen: rec.PrefixLen, Tokens: rec.Tokens, KV: rec.KV, State: state}
		} else if err != nil && !errors.Is(err, cache.ErrNoSnapshot) {
			d.log.Warn("session KV unusable: its turns are decoded again", "session", name, "err", err)
		}
		return t, nil
	}
	// The repository moved on (or the history outgrew its room): replay the
	// newest turns that fit on top of the fresh pack.
	t.replayed = len(rec.Transcript) > 0
	var turns [][]engine.Token
	total := 0
	for i := len(rec.Transcript) - 1; i >= 0; i-- {
		tr := rec.Transcript[i]
		toks := d.eng.Tokenize(questionText(tr.Question) + tr.Answer + answerEnd)
		if total+len(toks) > room {
			d.log.Info("session too long: its oldest turns are left out of the context", "session", name, "turns_left_out", i+1)
			break
		}
		total += len(toks)
		turns = append(turns, toks)
	}
	for i := len(turns) - 1; i >= 0; i-- {
		t.history = append(t.history, turns[i]...)
	}
	return t, nil
}

// finishSession records the answered turn on the view's pack: the
// transcript, the suffix tokens and their KV.
func (d *Daemon) finishSession(v *view, t *sessionTurn, p api.AskParams, res *api.AskResult, st engine.GenerateStats) error {
	now := time.Now().UTC()
	rec := t.rec
	rec.Transcript = append(rec.Transcript, api.Turn{Question: p.Question, Answer: res.Text, At: now, PackVersion: res.PackVersion, Replayed: t.replayed})
	rec.Turns = len(rec.Transcript)
	rec.Updated = now
	rec.PackVersion = res.PackVersion
	rec.KVTokens = 0
	rec.PrefixVersion, rec.PrefixLen, rec.Tokens, rec.KV = "", 0, nil, 0
	if s := st.State; s != nil {
		rec.PrefixVersion = res.PackVersion
		rec.PrefixLen = s.PrefixLen
		rec.Tokens = append(slices.Clone(s.Tokens), d.eng.Tokenize(answerEnd)...)
		rec.KV = s.KV
		h := cache.SnapshotHeader{
			Format:           cache.SnapshotFormat,
			ModelFingerprint: d.eng.Info().Fingerprint,
			Settings:         snapshotSettings(d.eng),
			Tokens:           s.Tokens[:s.KV],
			StateSize:        int64(len(s.State)),
		}
		if err := d.store.SaveSnapshot(sessionSnapshot(rec.Name), h, s.State); err != nil {
			d.log.Warn("session KV not saved: the next turn decodes its history again", "session", rec.Name, "err", err)
			rec.KV = 0
		} else {
			rec.KVTokens = s.KV
			d.prefix.evictSnapshots(sessionSnapshot(rec.Name), v.branch)
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := d.store.Put(sessionKeyPrefix+rec.Name, b); errors.Is(err, cache.ErrDiskFull) {
		// The answer stands; the turn is not kept (DiskWarning says why).
		d.log.Warn("session turn not saved: disk full", "session", rec.Name)
	} else if err != nil {
		return fmt.Errorf("saving session %s: %w", rec.Name, err)
	}
	d.writeSessionIndex()
	res.Session = rec.Name
	res.SessionTurn = rec.Turns
	res.SessionReplayed = t.replayed
	return nil
}

// sessions lists the sessions, most recently used first.
func (d *Daemon) sessions() ([]api.SessionInfo, error) {
	keys, err := d.store.Keys(sessionKeyPrefix)
	if err != nil {
		return nil, err
	}
	out := []api.SessionInfo{}
	for _, k := range keys {
		rec, ok, err := d.loadSession(strings.TrimPrefix(k, sessionKeyPrefix))
		if err != nil || !ok {
			continue
		}
		out = append(out, rec.SessionInfo)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	return out, nil
}

// openStore waits until the store is open (it opens before the model
// loads), so that sessions can be listed while the daemon starts.
func (d *Daemon) openStore(ctx context.Context) (*cache.Store, error) {
	for {
		d.mu.Lock()
		store, failure := d.store, d.failure
		d.mu.Unlock()
		if store != nil {
			return store, nil
		}
		if failure != nil {
			return nil, &api.Error{Code: api.CodeNotReady, Message: "the lore daemon failed to start: " + failure.Error()}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sessionCount counts the sessions kept (0 before the store is open).
func (d *Daemon) sessionCount() int {
	d.mu.Lock()
	store := d.store
	d.mu.Unlock()
	if store == nil {
		return 0
	}
	keys, err := store.Keys(sessionKeyPrefix)
	if err != nil {
		return 0
	}
	return len(keys)
}

func (d *Daemon) session(name string) (*api.Session, error) {
	if err := checkSessionName(name); err != nil {
		return nil, err
	}
	rec, ok, err := d.loadSession(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no session named %q (lore session list shows them)", name)}
	}
	return &rec.Session, nil
}

func (d *Daemon) deleteSession(ctx context.Context, name string) error {
	if _, err := d.session(name); err != nil {
		return err
	}
	unlock, err := d.sessionLocks.lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	if err := d.store.DeleteSnapshot(sessionSnapshot(name)); err != nil {
		return err
	}
	if err := d.store.Delete(sessionKeyPrefix + name); err != nil {
		return err
	}
	d.writeSessionIndex()
	return nil
}
