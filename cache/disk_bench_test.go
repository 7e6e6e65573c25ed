package cache

import (
	"math/rand"
	"strconv"
	"testing"
	"time"

	"lore/internal/testenv"
)

// BenchmarkFullDiskGuard writes 256 MiB of 1 KiB records (over 32 MiB of
// keys, with a 96 KiB value-log value every 1,000 puts) to a store on a
// 128 MiB tmpfs (mounting needs root), and reports the lowest free space
// seen: how far badger's flushes and compactions went into the reserve
// after the guard stopped admitting writes. Below zero it would have died
// of SIGBUS.
func BenchmarkFullDiskGuard(b *testing.B) {
	for b.Loop() {
		dir := testenv.Tmpfs(b, 128<<20)
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewSource(1))
		val := make([]byte, 1024)
		big := make([]byte, 96<<10)
		refused := 0
		minFree := int64(1 << 62)
		const puts = 256 << 10
		for i := 0; i < puts; i++ {
			rng.Read(val)
			if s.Put("k"+strconv.Itoa(rng.Intn(32<<10)), val) != nil {
				refused++
			}
			if i%1000 == 0 {
				rng.Read(big)
				s.Put("big"+strconv.Itoa(rng.Intn(64)), big)
			}
			if i%256 == 0 {
				if f, err := freeBytes(dir); err == nil && f < minFree {
					minFree = f
				}
			}
		}
		time.Sleep(2 * time.Second) // background flushes and compactions
		if f, err := freeBytes(dir); err == nil && f < minFree {
			minFree = f
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(minFree)/(1<<20), "lowest-free-MiB")
		b.ReportMetric(100*float64(refused)/puts, "refused-%")
	}
}
