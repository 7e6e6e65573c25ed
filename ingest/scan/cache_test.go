package scan

import (
	"strings"
	"sync"
	"testing"

	"lore/ingest/internal/ingesttest"
)

// mapKV is an in-memory KV.
type mapKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *mapKV) Get(key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok, nil
}

func (k *mapKV) Put(key string, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = append([]byte(nil), val...)
	return nil
}

// A cached verdict keeps a secret out as surely as the detector does.
func TestScanVerdictCache(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root := t.TempDir()
	ingesttest.Write(t, root, "README.md", "# demo\n")
	ingesttest.Write(t, root, "src/main.go", "package main\n\nfunc main() {}\n")
	key := "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + strings.Repeat("q", 64) + "\n-----END " + "RSA PRIVATE KEY-----\n"
	ingesttest.Write(t, root, "src/deploy.txt", key)
	kv := &mapKV{m: map[string][]byte{}}
	for i := 0; i < 2; i++ {
		res := scan(t, root, Options{Cache: kv})
		if fileByPath(res, "src/deploy.txt") != nil {
			t.Fatalf("scan %d packed the private key", i)
		}
		found := false
		for _, s := range res.Skipped {
			found = found || (s.Path == "src/deploy.txt" && strings.HasPrefix(s.Reason, ReasonSecret))
		}
		if !found {
			t.Fatalf("scan %d: the key file is not reported as a secret: %v", i, res.Skipped)
		}
	}
}
