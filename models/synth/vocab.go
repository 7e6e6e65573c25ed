package synth

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go-loader/assets"
)

// Token types of tokenizer.ggml.token_type (llama.cpp's llama_token_type).
const (
	typeNormal  int32 = 1
	typeUnknown int32 = 2
	typeControl int32 = 3
	typeByte    int32 = 6
)

// Special token ids and the first id of the normal tokens.
const (
	unkID       = 0
	bosID       = 1
	eosID       = 2
	firstByte   = 3
	firstNormal = firstByte + 256
)

const cl100kFile = "cl100k_base.tiktoken"

// vocab is a SentencePiece-style vocabulary ready for the tokenizer.ggml.* keys.
type vocab struct {
	tokens []string
	scores []float32
	types  []int32
}

// piece is a normal token derived from cl100k: its SentencePiece text and
// its BPE rank.
type piece struct {
	text string
	rank int
}

var (
	piecesOnce sync.Once
	pieces     []piece
	piecesErr  error
)

// buildVocab returns the vocabulary of n tokens: <unk>, <s>, </s>, the 256
// byte tokens, then the n-259 lowest-ranked usable cl100k tokens.
func buildVocab(n int) (*vocab, error) {
	if n < firstNormal+1 {
		return nil, fmt.Errorf("synth: vocabulary size %d is below the minimum %d", n, firstNormal+1)
	}
	piecesOnce.Do(func() { pieces, piecesErr = loadPieces() })
	if piecesErr != nil {
		return nil, piecesErr
	}
	if n-firstNormal > len(pieces) {
		return nil, fmt.Errorf("synth: vocabulary size %d is above the maximum %d", n, firstNormal+len(pieces))
	}
	v := &vocab{
		tokens: make([]string, 0, n),
		scores: make([]float32, 0, n),
		types:  make([]int32, 0, n),
	}
	for _, s := range specialTexts() {
		v.tokens = append(v.tokens, s.text)
		v.scores = append(v.scores, 0)
		v.types = append(v.types, s.typ)
	}
	for _, p := range pieces[:n-firstNormal] {
		v.tokens = append(v.tokens, p.text)
		v.scores = append(v.scores, -float32(p.rank))
		v.types = append(v.types, typeNormal)
	}
	return v, nil
}

type special struct {
	text string
	typ  int32
}

// specialTexts lists the tokens before the normal ones, in id order.
func specialTexts() []special {
	s := []special{{"<unk>", typeUnknown}, {"<s>", typeControl}, {"</s>", typeControl}}
	for b := 0; b < 256; b++ {
		s = append(s, special{fmt.Sprintf("<0x%02X>", b), typeByte})
	}
	return s
}

// loadPieces reads the embedded cl100k ranks and keeps, in rank order, the
// tokens that are valid UTF-8, longer than one byte once spaces are written as
// '▁', distinct, free of NUL, and that cannot make a special token reachable
// (see blockSpecials).
func loadPieces() ([]piece, error) {
	data, err := assets.Assets.ReadFile(cl100kFile)
	if err != nil {
		return nil, fmt.Errorf("synth: reading %s: %w", cl100kFile, err)
	}
	var all []piece
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		b64, r, ok := bytes.Cut(line, []byte{' '})
		if !ok {
			return nil, fmt.Errorf("synth: malformed line in %s: %q", cl100kFile, line)
		}
		tok, err := base64.StdEncoding.DecodeString(string(b64))
		if err != nil {
			return nil, fmt.Errorf("synth: %s: %w", cl100kFile, err)
		}
		rank, err := strconv.Atoi(string(r))
		if err != nil {
			return nil, fmt.Errorf("synth: %s: %w", cl100kFile, err)
		}
		all = append(all, piece{string(tok), rank})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].rank < all[j].rank })

	seen := make(map[string]bool, len(all))
	for _, s := range specialTexts() {
		seen[s.text] = true
	}
	out := make([]piece, 0, len(all))
	for _, p := range all {
		if !utf8.ValidString(p.text) || strings.IndexByte(p.text, 0) >= 0 {
			continue
		}
		text := strings.ReplaceAll(p.text, " ", "▁")
		if len(text) <= 1 || seen[text] {
			continue
		}
		seen[text] = true
		out = append(out, piece{text, p.rank})
	}
	return blockSpecials(out), nil
}

// blockSpecials drops the normal tokens through which the SPM tokenizer could
// build the text of a special or byte token ("<s>", "</s>", "<unk>",
// "<0x41>"). llama.cpp merges two adjacent symbols whenever their
// concatenation is in the vocabulary, whatever its type, so with "<s" in the
// vocabulary the source text "<s>" would become the BOS token and vanish on
// detokenization. A merged symbol always has the text of a vocabulary token,
// and the initial symbols are single characters, so a special text T stays
// unreachable when, for every split T = A+B, one side of length two or more
// is missing: drop the higher-ranked of the two (or the only long one).
func blockSpecials(ps []piece) []piece {
	rank := make(map[string]int, len(ps))
	for _, p := range ps {
		rank[p.text] = p.rank
	}
	drop := make(map[string]bool)
	for _, s := range specialTexts() {
		t := s.text
		for k := 1; k < len(t); k++ {
			a, b := t[:k], t[k:]
			ra, okA := rank[a]
			rb, okB := rank[b]
			okA = okA && !drop[a]
			okB = okB && !drop[b]
			longA, longB := utf8.RuneCountInString(a) > 1, utf8.RuneCountInString(b) > 1
			usableA := okA || !longA // a single character is always an initial symbol
			usableB := okB || !longB
			if !usableA || !usableB {
				continue // this split is already impossible
			}
			switch {
			case okA && okB:
				if ra > rb {
					drop[a] = true
				} else {
					drop[b] = true
				}
			case okA:
				drop[a] = true
			case okB:
				drop[b] = true
			}
		}
	}
	out := ps[:0]
	for _, p := range ps {
		if !drop[p.text] {
			out = append(out, p)
		}
	}
	return out
}
