package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lore/api"
)

// BenchmarkLongQuestion times a 256 KiB question without white space from
// the request to its reply, on a real daemon with the tiny model. Such a
// question once went to the tokenizer whole, whose time grows with the
// square of a word's length; now it is refused before tokenizing:
//
//	go test -run '^$' -bench LongQuestion -benchtime 3x ./daemon/
func BenchmarkLongQuestion(b *testing.B) {
	e := newEnv(b)
	d := e.start()
	d.ready(b)
	q := strings.Repeat("x", 256<<10)
	var err error
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		_, err = d.client.Ask(ctx, api.AskParams{Question: q, MaxTokens: 1}, nil, nil)
		cancel()
	}
	b.Logf("reply: %v", err)
}
