package lsp

import (
	"encoding/json"
	"strings"
	"testing"

	"lore/api"
)

// The answer document and the LSP result say which retrieved files the
// answer saw in full, apart from the excerpts.
func TestLSPAnswerSaysWhatItSawInFull(t *testing.T) {
	res := fromAPI(&api.AskResult{Text: "ok", Retrieved: []string{"a.go", "a_test.go", "b.go"}, RetrievedFull: []string{"a.go", "a_test.go"}, RetrievedTokens: 900, RetrievalAllowance: 1024}, "q")
	doc := renderAnswer("lore.ask", res, nil, t.TempDir())
	if !strings.Contains(doc, "saw in full: a.go, a_test.go; as excerpts: b.go") {
		t.Errorf("answer document:\n%s", doc)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"retrievedFull":["a.go","a_test.go"]`, `"retrievedTokens":900`, `"retrievalAllowance":1024`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("result %s lacks %s", b, want)
		}
	}
	// Nothing retrieved: an empty list, not null, as for retrieved.
	if b, _ := json.Marshal(fromAPI(&api.AskResult{}, "q")); !strings.Contains(string(b), `"retrievedFull":[]`) {
		t.Errorf("result %s", b)
	}
}
