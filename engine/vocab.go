package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// Vocab is a model's vocabulary loaded without its weights (llama.cpp's
// vocab_only): what a remote engine needs to tokenize exactly as the
// server running the same GGUF file does, without the memory of the model.
type Vocab struct {
	info   ModelInfo
	model  llama.Model
	vocab  llama.Vocab
	bos    Token
	addBOS bool

	mu     sync.RWMutex // Close waits for calls in progress
	closed bool
}

// OpenVocab loads the vocabulary and the metadata of the GGUF file at
// modelPath, with the llama.cpp libraries in libDir ("" searches
// LibraryCandidates).
func OpenVocab(libDir, modelPath string) (*Vocab, error) {
	if modelPath == "" {
		return nil, errors.New("no model configured: a remote engine tokenizes with the model's vocabulary, so set model (LORE_MODEL, --model) to a local copy of the GGUF file the server runs")
	}
	dir, err := FindLibrary(libDir)
	if err != nil {
		return nil, err
	}
	if err := loadLibrary(dir); err != nil {
		return nil, err
	}
	fp, err := Fingerprint(modelPath)
	if err != nil {
		return nil, fmt.Errorf("model file %s: %w (a remote engine needs a local copy of the GGUF file the server runs, for its vocabulary)", modelPath, err)
	}
	mp := llama.ModelDefaultParams()
	mp.VocabOnly = 1
	model, err := llama.ModelLoadFromFile(modelPath, mp)
	if err != nil || model == 0 {
		return nil, fmt.Errorf("llama.cpp could not load the vocabulary of %s (is it a complete GGUF model file?): %v", modelPath, err)
	}
	v := &Vocab{model: model, vocab: llama.ModelGetVocab(model)}
	v.bos = Token(llama.VocabBOS(v.vocab))
	v.addBOS = llama.VocabGetAddBOS(v.vocab)
	v.info = describeModel(model, modelPath, fp, int(llama.VocabNTokens(v.vocab)))
	return v, nil
}

// Info describes the model (ContextSize is 0: there is no context here).
func (v *Vocab) Info() ModelInfo { return v.info }

// Tokenize is Engine.Tokenize on this vocabulary.
func (v *Vocab) Tokenize(text string) []Token {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.closed {
		return nil
	}
	return tokenize(v.vocab, text)
}

// Piece is Engine.Piece on this vocabulary.
func (v *Vocab) Piece(t Token) []byte {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.closed {
		return nil
	}
	return piece(v.vocab, t)
}

// IsEOG reports whether t ends a generation.
func (v *Vocab) IsEOG(t Token) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return !v.closed && llama.VocabIsEOG(v.vocab, llama.Token(t))
}

// BOS is Engine.BOS for this vocabulary.
func (v *Vocab) BOS() (Token, bool) { return v.bos, v.addBOS && v.bos >= 0 }

// Close frees the vocabulary; later calls return nothing.
func (v *Vocab) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil
	}
	v.closed = true
	return llama.ModelFree(v.model)
}
