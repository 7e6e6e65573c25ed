package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"lore/api"
)

// BenchmarkLongQuestion times questions without white space from the
// request to the reply, on a real daemon with the tiny model: 256 KiB, once
// given to the tokenizer whole (whose time grows with the square of a
// word's length; 10.4 s here), now refused before tokenizing; and one at
// the limit (api.MaxQuestionBytes), the longest still tokenized (in 1 KiB
// pieces, see engine.Tokenize):
//
//	go test -run '^$' -bench LongQuestion -benchtime 3x ./daemon/
func BenchmarkLongQuestion(b *testing.B) {
	e := newEnv(b)
	d := e.start()
	d.ready(b)
	for _, n := range []int{256 << 10, api.MaxQuestionBytes} {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			q := strings.Repeat("x", n)
			var err error
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				_, err = d.client.Ask(ctx, api.AskParams{Question: q, MaxTokens: 1}, nil, nil)
				cancel()
			}
			b.Logf("reply: %v", err)
		})
	}
}
