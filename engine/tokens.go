package engine

import (
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// Tokenize and Piece must not be called after Close.

// Tokenize turns text into tokens without adding BOS/EOS and without parsing
// special-token text, so file contents can never inject control tokens.
// NUL bytes become U+FFFD: the C API takes the text as a C string and
// llama.cpp aborts the process on an embedded NUL. A stretch without white
// space longer than maxRun is tokenized in pieces (see maxRun).
func (e *Engine) Tokenize(text string) []Token { return tokenize(e.vocab, text) }

func tokenize(vocab llama.Vocab, text string) []Token {
	if text == "" {
		return nil
	}
	text = strings.ReplaceAll(text, "\x00", "\uFFFD")
	pieces := splitRuns(text, maxRun)
	if len(pieces) == 1 {
		return fromLlama(llama.Tokenize(vocab, text, false, false))
	}
	var toks []Token
	for _, p := range pieces {
		toks = append(toks, fromLlama(llama.Tokenize(vocab, p, false, false))...)
	}
	return toks
}

// maxRun is the longest stretch without white space that goes to llama.cpp
// in one call. Its tokenizer takes time that grows with the square of a
// word's length (on the tiny model a 64 KiB word took 0.39 s, so a 1 MiB
// one about 100 s), and tokenizing cannot be interrupted: a file, an
// editor buffer or a question holding such a word kept the prefix lock
// for minutes. A longer stretch is cut into pieces of maxRun bytes (at
// character boundaries), tokenized one by one; only the tokens at the cuts
// differ from tokenizing the stretch whole, and the text they spell is the
// same.
const maxRun = 1 << 10

// splitRuns cuts text so that no piece holds more than max bytes without
// white space, at character boundaries; text without such a stretch is one
// piece.
func splitRuns(text string, max int) []string {
	var pieces []string
	start, run := 0, 0 // the current piece's start; the run's length so far
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			run = 0
		case run >= max && utf8.RuneStart(c):
			pieces = append(pieces, text[start:i])
			start, run = i, 1
		default:
			run++
		}
	}
	return append(pieces, text[start:])
}

// BOS returns the token that starts every prompt, if the model wants one.
func (e *Engine) BOS() (Token, bool) { return e.bos, e.addBOS && e.bos >= 0 }

// TokenizerFingerprint identifies the tokenizer, to key cached token arrays.
// Token arrays depend only on the vocabulary, which the model fingerprint covers.
func (e *Engine) TokenizerFingerprint() string { return e.info.Fingerprint }

// Piece returns the bytes of one token as it appears in generated text.
func (e *Engine) Piece(t Token) []byte { return piece(e.vocab, t) }

func piece(vocab llama.Vocab, t Token) []byte {
	buf := make([]byte, 64)
	n := llama.TokenToPiece(vocab, llama.Token(t), buf, 0, false)
	if n < 0 {
		buf = make([]byte, -n)
		n = llama.TokenToPiece(vocab, llama.Token(t), buf, 0, false)
	}
	if n <= 0 {
		return nil
	}
	return buf[:n]
}

// fromLlama reinterprets yzma's token slice; both are int32 arrays.
func fromLlama(t []llama.Token) []Token {
	if len(t) == 0 {
		return nil
	}
	return unsafe.Slice((*Token)(unsafe.Pointer(&t[0])), len(t))
}
