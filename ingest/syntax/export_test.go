package syntax

// The scan-level tests of the parse cache live in package syntax_test,
// because they import scan, which imports syntax; these give them the parse
// counter and the samples.
var (
	ParseCount = &parseCount
	Samples    = syntaxSamples
)

func HasGrammar(lang string) bool { return grammarFor(lang) != nil }
