package synth

// Token ids the external tests (llama_test.go, which loads models through
// internal/testenv, itself an importer of synth) check against.
const (
	BOSID     = bosID
	FirstByte = firstByte
)
