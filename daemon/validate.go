package daemon

import (
	"fmt"
	"math"
	"strings"

	"lore/api"
)

// checkAsk refuses a question that cannot be answered as asked before any
// work is done for it, so that no client can make the daemon tokenize or
// wait on its behalf for what will fail anyway.
func checkAsk(p api.AskParams) error {
	if strings.TrimSpace(p.Question) == "" {
		return invalidParams("the question is empty")
	}
	if n := len(p.Question); n > api.MaxQuestionBytes {
		return invalidParams(fmt.Sprintf("the question has %d bytes; the limit is %d (%d KiB): shorten it, or send the code it is about as its location", n, api.MaxQuestionBytes, api.MaxQuestionBytes>>10))
	}
	if _, err := priority(p.Priority); err != nil {
		return err
	}
	if p.Session != "" {
		if err := checkSessionName(p.Session); err != nil {
			return err
		}
	}
	if p.MaxTokens < 0 {
		return invalidParams(fmt.Sprintf("max_tokens %d is negative: give the answer's length limit in tokens (0 = 256)", p.MaxTokens))
	}
	if t := float64(p.Temperature); math.IsNaN(t) || t < 0 || t > api.MaxTemperature {
		return invalidParams(fmt.Sprintf("temperature %g is out of range: use 0 (greedy) to %d", p.Temperature, api.MaxTemperature))
	}
	if tp := float64(p.TopP); math.IsNaN(tp) || tp < 0 || tp > 1 {
		return invalidParams(fmt.Sprintf("top_p %g is out of range: use more than 0 and at most 1 (0 = 0.95)", p.TopP))
	}
	if p.TopK > math.MaxInt32 || p.TopK < math.MinInt32 {
		return invalidParams(fmt.Sprintf("top_k %d is out of range: give how many of the likeliest tokens to sample among (0 = 40, -1 = all)", p.TopK))
	}
	return nil
}

// checkMaxTokens refuses an answer longer than the context could ever hold;
// it needs the loaded engine's context size.
func checkMaxTokens(maxTokens, contextSize int) error {
	if maxTokens > contextSize {
		return invalidParams(fmt.Sprintf("max_tokens %d is more than the context holds (%d tokens): ask for at most %d", maxTokens, contextSize, contextSize))
	}
	return nil
}
