package api

import "testing"

func TestSeenNote(t *testing.T) {
	for _, c := range []struct {
		full, retrieved []string
		want            string
	}{
		{[]string{"a.go", "a_test.go"}, []string{"a.go", "a_test.go", "b.go"}, "saw in full: a.go, a_test.go; as excerpts: b.go"},
		{[]string{"a.go"}, []string{"a.go"}, "saw in full: a.go"},
		{nil, []string{"b.go"}, "as excerpts: b.go"},
		{nil, nil, ""},
	} {
		if got := SeenNote(c.full, c.retrieved); got != c.want {
			t.Errorf("SeenNote(%v, %v) = %q, want %q", c.full, c.retrieved, got, c.want)
		}
	}
}
