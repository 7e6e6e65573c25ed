package bytesize

import "testing"

func TestParseAndExact(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1024": 1024, "1B": 1, "1KiB": 1 << 10, "1k": 1 << 10, "1kb": 1000,
		"1MiB": 1 << 20, "1 MiB": 1 << 20, "4GiB": 4 << 30, "4G": 4 << 30, "2GB": 2e9,
		"1.5GiB": 3 << 29, "1TiB": 1 << 40, " 8mib ": 8 << 20,
	}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.2.3", "GiB", "4 XB", "1e3", "99999999999TiB", "9223372036854775808"} {
		if n, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, n)
		}
	}
	for n, want := range map[int64]string{0: "0", 1000: "1000", 1 << 20: "1MiB", 4 << 30: "4GiB", 1536 << 10: "1536KiB"} {
		if got := Exact(n); got != want {
			t.Errorf("Exact(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 82 << 30: "82.0 GiB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
