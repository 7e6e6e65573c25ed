package engine

import (
	"strings"
	"unsafe"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// Tokenize and Piece must not be called after Close.

// Tokenize turns text into tokens without adding BOS/EOS and without parsing
// special-token text, so file contents can never inject control tokens.
// NUL bytes become U+FFFD: the C API takes the text as a C string and
// llama.cpp aborts the process on an embedded NUL.
func (e *Engine) Tokenize(text string) []Token {
	if text == "" {
		return nil
	}
	text = strings.ReplaceAll(text, "\x00", "\uFFFD")
	return fromLlama(llama.Tokenize(e.vocab, text, false, false))
}

// BOS returns the token that starts every prompt, if the model wants one.
func (e *Engine) BOS() (Token, bool) { return e.bos, e.addBOS && e.bos >= 0 }

// TokenizerFingerprint identifies the tokenizer, to key cached token arrays.
// Token arrays depend only on the vocabulary, which the model fingerprint covers.
func (e *Engine) TokenizerFingerprint() string { return e.info.Fingerprint }

// Piece returns the bytes of one token as it appears in generated text.
func (e *Engine) Piece(t Token) []byte {
	buf := make([]byte, 64)
	n := llama.TokenToPiece(e.vocab, llama.Token(t), buf, 0, false)
	if n < 0 {
		buf = make([]byte, -n)
		n = llama.TokenToPiece(e.vocab, llama.Token(t), buf, 0, false)
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
