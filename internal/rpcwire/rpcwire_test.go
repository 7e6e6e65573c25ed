package rpcwire

import (
	"encoding/json"
	"testing"
)

func TestScanID(t *testing.T) {
	for _, tc := range []struct{ head, want string }{
		{`{"jsonrpc":"2.0","id":7,"method":"ask","params":{"question":"xxxx`, `7`},
		{`{"params":{"id":1},"id":"a"`, `"a"`}, // the top-level id, not a nested one
		{`{"method":"ask","params":{"question":"cut off`, ``},
		{`{"id":{"x":1}}`, ``}, // not a valid id
		{`[1,2]`, ``},
	} {
		if got := string(ScanID([]byte(tc.head))); got != tc.want {
			t.Errorf("ScanID(%s) = %q, want %q", tc.head, got, tc.want)
		}
	}
}

func TestErrorNullID(t *testing.T) {
	b, err := json.Marshal(Error(nil, -32700, "parse error"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}
