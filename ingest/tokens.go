package ingest

import "unicode/utf8"

// EstimateTokens estimates how many tokens a BPE tokenizer with a vocabulary
// of about 32k tokens derived from cl100k (the engine's generated models)
// makes of s, when no model is loaded. It is a single pass without
// allocations.
//
// It splits s into the runs such a tokenizer sees and charges each:
//
//	identifier part (a letter run split at camelCase humps: "ServeHTTP" is
//	  "Serve" + "HTTP")                       0.97, plus 0.40 per letter past 6
//	digits                                    1.6 per group of 3
//	ASCII punctuation run ('_' included)      0.43 + 0.23 per byte
//	newline                                   0.48, plus 1.0 if indentation follows
//	other white space run of 2 or more        1.2 (a single space joins the next word)
//	non-ASCII character or control byte       2.75
//
// The weights were fitted by least squares (relative error) to the token
// counts of the Go files of $(go env GOROOT)/src/net under the demo model's
// tokenizer. On those 390 files the mean absolute error is 76 tokens per
// file, 3.7% of the true count (bias -1%), against 9% for len/3.2 and 20%
// for len/4; on held-out files it was 4% (Go, C, Rust, TypeScript), 5-6%
// (C++, C headers, JavaScript, Python, Markdown) and 6.4% (Java).
// TestEstimateTokensCalibration measures it again.
func EstimateTokens(s string) int {
	// Weights in thousandths of a token.
	const (
		wWord      = 970
		wWordLong  = 400
		wWordShort = 6
		wDigits    = 1600
		wPunct     = 230
		wPunctRun  = 430
		wNewline   = 480
		wIndent    = 1000
		wSpaces    = 1200
		wOther     = 2750
	)
	milli := 0
	n := len(s)
	for i := 0; i < n; {
		c := s[i]
		switch {
		case estLetter(c):
			j := i
			for j < n && estLetter(s[j]) {
				j++
			}
			start := i
			for k := i + 1; k <= j; k++ {
				if k == j || estUpper(s[k]) && (!estUpper(s[k-1]) || k+1 < j && estLower(s[k+1])) {
					milli += wWord
					if l := k - start; l > wWordShort {
						milli += (l - wWordShort) * wWordLong
					}
					start = k
				}
			}
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < n && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			milli += (j - i + 2) / 3 * wDigits
			i = j
		case estPunct(c):
			j := i
			for j < n && estPunct(s[j]) {
				j++
			}
			milli += wPunctRun + (j-i)*wPunct
			i = j
		case c == '\n':
			milli += wNewline
			j := i + 1
			for j < n && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j > i+1 {
				milli += wIndent
			}
			i = j
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			j := i + 1
			for j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\f' || s[j] == '\v') {
				j++
			}
			if j > i+1 {
				milli += wSpaces
			}
			i = j
		case c < utf8.RuneSelf:
			milli += wOther // other control bytes
			i++
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			milli += wOther
			i += size
		}
	}
	if milli == 0 {
		if n > 0 {
			return 1
		}
		return 0
	}
	return max((milli+500)/1000, 1)
}

func estLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func estUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func estLower(c byte) bool  { return c >= 'a' && c <= 'z' }

// estPunct reports ASCII punctuation: !-/ :-@ [-` {-~.
func estPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}
