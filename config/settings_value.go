package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"lore/internal/bytesize"
)

func reflectValue(p any) any {
	switch p := p.(type) {
	case *string:
		return *p
	case *int:
		return *p
	case *int64:
		return *p
	case *bool:
		return *p
	case *float64:
		return *p
	case *time.Duration:
		return *p
	case *[]string:
		if *p == nil {
			return []string{}
		}
		return slices.Clone(*p)
	}
	panic(fmt.Sprintf("config: unexpected field type %T", p))
}

func formatText(k *keyDef, v any) string {
	switch k.kind {
	case kSize:
		if f := bytesize.Exact(v.(int64)); strings.HasSuffix(f, "B") {
			return strconv.Quote(f)
		}
		return strconv.FormatInt(v.(int64), 10)
	case kDuration:
		return strconv.Quote(formatDuration(v.(time.Duration)))
	case kString, kPath, kEnum:
		return strconv.Quote(v.(string))
	case kList:
		q := make([]string, 0, len(v.([]string)))
		for _, p := range v.([]string) {
			q = append(q, strconv.Quote(p))
		}
		return "[" + strings.Join(q, ", ") + "]"
	case kFraction:
		return strconv.FormatFloat(v.(float64), 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
}

// expected describes the valid values of a key.
func expected(k *keyDef) string {
	switch k.kind {
	case kString, kPath:
		return "a string"
	case kCount:
		return "an integer >= 0"
	case kBool:
		return "true or false"
	case kEnum:
		return "one of " + quoteList(k.choices)
	case kFraction:
		return "a fraction between 0 and 1"
	case kSize:
		return `a size in bytes, as an integer or a string like "512KiB", "1MiB", "4GiB"`
	case kDuration:
		return `a duration like "90s", "30m", "2h", or "0" for never`
	case kList:
		return "an array of strings"
	}
	return "?"
}

func quoteList(c []string) string {
	q := make([]string, len(c))
	for i, s := range c {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// parseString parses a value given as text (environment, flag, or a string
// in a file).
func parseString(k *keyDef, s string) (any, error) {
	switch k.kind {
	case kString, kPath:
		return s, nil
	case kCount:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer; want %s", s, expected(k))
		}
		return checkCount(k, n)
	case kBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a boolean; want %s", s, expected(k))
		}
		return b, nil
	case kEnum:
		if slices.Contains(k.choices, s) {
			return s, nil
		}
		return nil, fmt.Errorf("%q is not valid; want %s", s, expected(k))
	case kFraction:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number; want %s", s, expected(k))
		}
		return checkFraction(f)
	case kSize:
		n, err := bytesize.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%v; want %s", err, expected(k))
		}
		return n, nil
	case kDuration:
		d, err := ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%v; want %s", err, expected(k))
		}
		return d, nil
	case kList:
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		if out == nil {
			out = []string{}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported setting")
}

func checkCount(k *keyDef, n int64) (any, error) {
	if n < 0 {
		return nil, fmt.Errorf("%d is negative; want %s", n, expected(k))
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%d is too large; want %s", n, expected(k))
	}
	return n, nil
}

func checkFraction(f float64) (any, error) {
	if math.IsNaN(f) || f < 0 || f > 1 {
		return nil, fmt.Errorf("%v is out of range; want a fraction between 0 and 1", f)
	}
	return f, nil
}

// ParseDuration parses a duration like "90s", "30m" or "2h"; "0" (or "",
// "never", "off") means zero, i.e. never. Negative durations are errors.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "", "0", "never", "off":
		return 0, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}
