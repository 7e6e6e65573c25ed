package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"lore/api"
)

// The handler map answers bad requests with the codes and messages of the
// API, before any method runs.
func TestHandlerErrors(t *testing.T) {
	d, err := New(Options{Repo: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	raw := func(s string) *json.RawMessage { m := json.RawMessage(s); return &m }
	for _, tc := range []struct {
		method string
		params *json.RawMessage
		code   int64
		msg    string
	}{
		{"nope", nil, jsonrpc2.CodeMethodNotFound, "unknown method nope"},
		{api.MethodAsk, nil, jsonrpc2.CodeInvalidParams, `ask needs params {"question": ...}`},
		{api.MethodAsk, raw(`[1]`), jsonrpc2.CodeInvalidParams, "ask params: json: cannot unmarshal array into Go value of type api.AskParams"},
		{api.MethodAsk, raw(`{"question": "  "}`), jsonrpc2.CodeInvalidParams, "the question is empty"},
		{api.MethodCancel, nil, jsonrpc2.CodeInvalidParams, "ask/cancel needs params"},
		{api.MethodBufferUpdate, raw(`{"path": ""}`), jsonrpc2.CodeInvalidParams, "buffer/update: no path given"},
		{api.MethodSessionGet, nil, jsonrpc2.CodeInvalidParams, "session/get needs params"},
		// Questions are checked before any work is done for them (the
		// daemon here has no engine: a question let through would wait).
		{api.MethodAsk, raw(`{"question": "x", "priority": "urgent"}`), jsonrpc2.CodeInvalidParams, `unknown priority "urgent": use interactive, hook or background`},
		{api.MethodAsk, raw(`{"question": "x", "session": "../x"}`), jsonrpc2.CodeInvalidParams, `session name "../x": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{api.MethodAsk, raw(`{"question": "x", "max_tokens": -5}`), jsonrpc2.CodeInvalidParams, "max_tokens -5 is negative: give the answer's length limit in tokens (0 = 256)"},
		{api.MethodAsk, raw(`{"question": "x", "temperature": 1e38}`), jsonrpc2.CodeInvalidParams, "temperature 1e+38 is out of range: use 0 (greedy) to 2"},
		{api.MethodAsk, raw(`{"question": "x", "temperature": -0.5}`), jsonrpc2.CodeInvalidParams, "temperature -0.5 is out of range: use 0 (greedy) to 2"},
		{api.MethodAsk, raw(`{"question": "x", "top_p": -0.1}`), jsonrpc2.CodeInvalidParams, "top_p -0.1 is out of range: use more than 0 and at most 1 (0 = 0.95)"},
		{api.MethodAsk, raw(`{"question": "x", "top_p": 1.5}`), jsonrpc2.CodeInvalidParams, "top_p 1.5 is out of range: use more than 0 and at most 1 (0 = 0.95)"},
		{api.MethodAsk, raw(`{"question": "x", "top_k": 4294967297}`), jsonrpc2.CodeInvalidParams, "top_k 4294967297 is out of range: give how many of the likeliest tokens to sample among (0 = 40, -1 = all)"},
		{api.MethodAsk, raw(`{"question": "` + strings.Repeat("x", api.MaxQuestionBytes+1) + `"}`), jsonrpc2.CodeInvalidParams,
			"the question has 65537 bytes; the limit is 65536 (64 KiB): shorten it, or send the code it is about as its location"},
		{api.MethodSessionGet, raw(`{"name": "a/b"}`), jsonrpc2.CodeInvalidParams, `session name "a/b": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
	} {
		_, err := d.handle(context.Background(), nil, &jsonrpc2.Request{Method: tc.method, Params: tc.params})
		var rerr *jsonrpc2.Error
		if !errors.As(err, &rerr) || rerr.Code != tc.code || rerr.Message != tc.msg {
			t.Errorf("%s %s: error %v, want code %d %q", tc.method, tc.params, err, tc.code, tc.msg)
		}
	}
	res, err := d.handle(context.Background(), nil, &jsonrpc2.Request{Method: api.MethodCancel, Params: raw(`{"stream": "s"}`)})
	if b, _ := json.Marshal(res); err != nil || string(b) != "null" {
		t.Errorf("cancel: %s, %v; want null", b, err)
	}
}
