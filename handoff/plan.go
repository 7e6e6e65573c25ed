package handoff

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// pathToken matches what may be a file path in a plan: a word with a
// slash or a file extension, in backticks or not.
var pathToken = regexp.MustCompile("`([^`\\s]+)`|(?:^|[\\s(\\[\"'])((?:[A-Za-z0-9_.\\-]+/)*[A-Za-z0-9_\\-][A-Za-z0-9_.\\-]*\\.[A-Za-z0-9]{1,8})(?:[\\s)\\]\"',:;.]|$)")

// PlanPaths returns the files a plan names: the ones that exist (isFile
// says which) in order of first mention, and the path-like names that do
// not (new files the plan creates, or mistakes to flag). Backticked names
// count whether they look like paths or not; bare words only when they
// hold a slash or an extension, and bare ones that do not exist are not
// flagged unless they hold a slash (a sentence's "e.g." is no path).
func PlanPaths(plan string, isFile func(p string) bool) (named, unknown []string) {
	seen := map[string]bool{}
	for _, line := range strings.Split(plan, "\n") {
		for _, m := range pathToken.FindAllStringSubmatch(line, -1) {
			p, quoted := m[1], true
			if p == "" {
				p, quoted = m[2], false
			}
			p = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(p), "./"), ".")
			if i := strings.IndexAny(p, ":#"); i > 0 { // path:line, path#L3
				p = p[:i]
			}
			if p == "" || seen[p] || strings.Contains(p, "://") || path.IsAbs(p) || strings.HasPrefix(p, "..") {
				continue
			}
			seen[p] = true
			switch {
			case isFile(p):
				named = append(named, p)
			case quoted && (strings.Contains(p, "/") || path.Ext(p) != "") || !quoted && strings.Contains(p, "/"):
				unknown = append(unknown, p)
			}
		}
	}
	slices.Sort(unknown)
	return named, unknown
}
