package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync/atomic"

	"lore/cache"
	"lore/engine"
	"lore/ingest"
)

// errTokensLost means a resumed segment's tokens are not in the cache.
var errTokensLost = errors.New("the token cache lacks a segment of the saved layout")

// emptyHash is the sha256 of the empty text.
const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// tokenCache tokenizes texts with the model's tokenizer through the store:
// a text's tokens depend only on the text and the tokenizer.
type tokenCache struct {
	store        *cache.Store
	eng          engine.Backend
	log          *slog.Logger
	hits, misses atomic.Int64 // tokenizations from the cache, and computed
}

// count counts a text's tokens.
func (c *tokenCache) count(text string) int {
	sum := sha256.Sum256([]byte(text))
	toks, _ := c.tokens(hex.EncodeToString(sum[:]), text)
	return len(toks)
}

// segment tokenizes a segment.
func (c *tokenCache) segment(s ingest.Segment) ([]engine.Token, error) {
	return c.tokens(s.Hash, s.Text)
}

func (c *tokenCache) tokens(hash, text string) ([]engine.Token, error) {
	tk := c.eng.TokenizerFingerprint()
	if toks, ok, err := c.store.Tokens(tk, hash); err == nil && ok {
		c.hits.Add(1)
		return toks, nil
	} else if err != nil {
		c.log.Warn("token cache read failed", "err", err)
	}
	if text == "" && hash != emptyHash {
		// A resumed segment whose tokens the cache no longer has.
		return nil, errTokensLost
	}
	c.misses.Add(1)
	toks := c.eng.Tokenize(text)
	// A full disk is reported once by the store and in status, not per segment.
	if err := c.store.PutTokens(tk, hash, toks); err != nil && !errors.Is(err, cache.ErrDiskFull) {
		c.log.Warn("token cache write failed", "err", err)
	}
	return toks, nil
}
