package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"

	badger "github.com/dgraph-io/badger/v4"
)

// --- generic values ---

func userKey(key string) ([]byte, error) {
	if key == "" {
		return nil, errors.New("cache: empty key")
	}
	if len(key) > maxUserKey {
		return nil, fmt.Errorf("cache: key longer than %d bytes", maxUserKey)
	}
	return []byte(prefixUser + key), nil
}

// Get returns the value stored under key, and whether there was one.
func (s *Store) Get(key string) ([]byte, bool, error) {
	k, err := userKey(key)
	if err != nil {
		return nil, false, err
	}
	return s.get(k)
}

// Put stores val under key, replacing any previous value.
func (s *Store) Put(key string, val []byte) error {
	k, err := userKey(key)
	if err != nil {
		return err
	}
	return s.set(k, val)
}

// Delete removes key. Deleting a missing key is not an error.
func (s *Store) Delete(key string) error {
	k, err := userKey(key)
	if err != nil {
		return err
	}
	return s.del(k)
}

// Keys returns the keys (as given to Put) that start with prefix, sorted.
func (s *Store) Keys(prefix string) ([]string, error) {
	var out []string
	p := []byte(prefixUser + prefix)
	err := s.view(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		opt.Prefix = p
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			out = append(out, string(it.Item().Key()[len(prefixUser):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: list keys: %w", err)
	}
	return out, nil
}

// Every value is stored in an envelope: a version byte, the CRC-32C of the
// payload (little-endian) and the payload. Badger returns an empty value,
// without an error, when it cannot read a value from a damaged value log;
// the envelope turns that (and any other damage) into a detected miss.
const (
	envelopeVersion = 1
	envelopeLen     = 5
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func seal(payload []byte) []byte {
	b := make([]byte, envelopeLen, envelopeLen+len(payload))
	b[0] = envelopeVersion
	binary.LittleEndian.PutUint32(b[1:], crc32.Checksum(payload, crcTable))
	return append(b, payload...)
}

func unseal(b []byte) ([]byte, bool) {
	if len(b) < envelopeLen || b[0] != envelopeVersion {
		return nil, false
	}
	p := b[envelopeLen:]
	return p, binary.LittleEndian.Uint32(b[1:]) == crc32.Checksum(p, crcTable)
}

// get returns the payload under k. A damaged record is logged, deleted and
// reported as a miss: the cache recomputes what it lost.
func (s *Store) get(k []byte) ([]byte, bool, error) {
	var val []byte
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(k)
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache: get: %w", err)
	}
	p, ok := unseal(val)
	if !ok {
		s.log.Warn("dropping damaged record", "key", printableKey(k))
		_ = s.del(k)
		return nil, false, nil
	}
	return p, true, nil
}

func printableKey(k []byte) string {
	if len(k) > 200 {
		k = k[:200]
	}
	return strconv.QuoteToASCII(string(k))
}

func (s *Store) set(k, v []byte) error {
	sealed := seal(v)
	if err := s.update("a record", k, len(k)+len(sealed), false, func(txn *badger.Txn) error { return txn.Set(k, sealed) }); err != nil {
		if errors.Is(err, ErrDiskFull) {
			return err
		}
		return fmt.Errorf("cache: put: %w", err)
	}
	return nil
}

func (s *Store) del(k []byte) error {
	if err := s.update("a deletion", k, len(k), true, func(txn *badger.Txn) error { return txn.Delete(k) }); err != nil {
		if errors.Is(err, ErrDiskFull) {
			return err
		}
		return fmt.Errorf("cache: delete: %w", err)
	}
	return nil
}

// --- token arrays ---

// tokensEncoding is the first byte of an encoded token array: zigzag varints.
const tokensEncoding = 1

func tokensKey(tokenizer, contentHash string) ([]byte, error) {
	if tokenizer == "" || contentHash == "" {
		return nil, errors.New("cache: empty tokenizer fingerprint or content hash")
	}
	if len(tokenizer)+len(contentHash) > maxUserKey {
		return nil, errors.New("cache: tokenizer fingerprint and content hash too long")
	}
	// Length-prefix the tokenizer so that no pair of strings can collide.
	return []byte(prefixTokens + strconv.Itoa(len(tokenizer)) + ":" + tokenizer + contentHash), nil
}

// Tokens returns the token array cached for a segment content under a
// tokenizer, and whether there was one. A damaged record is dropped and
// reported as a miss.
func (s *Store) Tokens(tokenizer, contentHash string) ([]int32, bool, error) {
	k, err := tokensKey(tokenizer, contentHash)
	if err != nil {
		return nil, false, err
	}
	raw, ok, err := s.get(k)
	if err != nil || !ok {
		return nil, false, err
	}
	toks, err := decodeTokens(raw)
	if err != nil {
		s.log.Warn("dropping damaged token record", "tokenizer", tokenizer, "content", contentHash, "error", err)
		_ = s.del(k)
		return nil, false, nil
	}
	return toks, true, nil
}

// PutTokens caches the token array of a segment content under a tokenizer.
func (s *Store) PutTokens(tokenizer, contentHash string, toks []int32) error {
	k, err := tokensKey(tokenizer, contentHash)
	if err != nil {
		return err
	}
	return s.set(k, encodeTokens(toks))
}

func encodeTokens(toks []int32) []byte {
	// Most token ids are below 2^20: about 3 bytes each.
	buf := make([]byte, 0, 1+binary.MaxVarintLen64+3*len(toks))
	buf = append(buf, tokensEncoding)
	buf = binary.AppendUvarint(buf, uint64(len(toks)))
	for _, t := range toks {
		buf = binary.AppendVarint(buf, int64(t))
	}
	return buf
}

func decodeTokens(b []byte) ([]int32, error) {
	if len(b) == 0 || b[0] != tokensEncoding {
		return nil, errors.New("unknown token encoding")
	}
	b = b[1:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) { // each token takes at least one byte
		return nil, errors.New("bad token count")
	}
	b = b[w:]
	toks := make([]int32, n)
	for i := range toks {
		v, w := binary.Varint(b)
		if w <= 0 || v < -1<<31 || v > 1<<31-1 {
			return nil, errors.New("bad token value")
		}
		toks[i] = int32(v)
		b = b[w:]
	}
	if len(b) != 0 {
		return nil, errors.New("trailing bytes after tokens")
	}
	return toks, nil
}
