// Package bytesize is lore's one reading and writing of byte counts, for
// configuration files, command flags and status output alike.
//
// Units follow the IEC and SI prefixes: KiB, MiB, GiB and TiB are binary
// (powers of 1024), kB, MB, GB and TB decimal (powers of 1000), case aside.
// The bare letters K, M, G and T are binary, as memory sizes are usually
// meant.
package bytesize

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

var sizeRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)[ \t]*([a-zA-Z]*)$`)

var units = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// Parse parses a byte count: a plain integer, or a number with a unit.
// "1.5GiB" is allowed; the result is rounded down to whole bytes.
func Parse(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	unit, ok := units[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)", s, m[2])
	}
	if !strings.Contains(m[1], ".") {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil && (n == 0 || int64(unit) <= math.MaxInt64/n) {
			return n * int64(unit), nil
		}
		return 0, fmt.Errorf("%q is too large", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	b := f * unit
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(b), nil
}

// Exact writes a byte count in the largest binary unit that divides it
// exactly ("4GiB", "1536KiB", "1000"), so that Parse reads back the same
// count: the form for values written into configuration.
func Exact(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// Format writes a byte count for people to read, in the largest binary unit
// up to GiB that it reaches, with one decimal ("1.5 GiB", "12.0 MiB", "512 B").
func Format(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
