package daemon

import (
	"context"
	"encoding/json"
	"errors"
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
