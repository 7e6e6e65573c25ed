package syntax

import (
	"fmt"
	"regexp"

	sitter "github.com/smacker/go-tree-sitter"
)

// predicate is a compiled #eq?, #not-eq?, #match? or #not-match? of one
// query pattern. smacker's own FilterPredicates compiles regular expressions
// on every match; these are compiled once.
type predicate struct {
	op      string // "eq", "match"
	negate  bool
	capture uint32
	other   int64 // capture compared against, or -1
	text    string
	re      *regexp.Regexp
}

func compilePredicates(q *sitter.Query) ([][]predicate, error) {
	n := q.PatternCount()
	out := make([][]predicate, n)
	for i := uint32(0); i < n; i++ {
		for _, steps := range q.PredicatesForPattern(i) {
			if len(steps) < 3 || steps[0].Type != sitter.QueryPredicateStepTypeString {
				continue
			}
			op := q.StringValueForId(steps[0].ValueId)
			p := predicate{other: -1}
			switch op {
			case "eq?", "not-eq?":
				p.op, p.negate = "eq", op == "not-eq?"
			case "match?", "not-match?":
				p.op, p.negate = "match", op == "not-match?"
			default:
				return nil, fmt.Errorf("pattern %d: unsupported predicate #%s", i, op)
			}
			if steps[1].Type != sitter.QueryPredicateStepTypeCapture || len(steps) < 4 {
				return nil, fmt.Errorf("pattern %d: #%s needs a capture and a value", i, op)
			}
			p.capture = steps[1].ValueId
			switch steps[2].Type {
			case sitter.QueryPredicateStepTypeCapture:
				if p.op == "match" {
					return nil, fmt.Errorf("pattern %d: #%s needs a string", i, op)
				}
				p.other = int64(steps[2].ValueId)
			default:
				p.text = q.StringValueForId(steps[2].ValueId)
				if p.op == "match" {
					re, err := regexp.Compile(p.text)
					if err != nil {
						return nil, fmt.Errorf("pattern %d: %w", i, err)
					}
					p.re = re
				}
			}
			out[i] = append(out[i], p)
		}
	}
	return out, nil
}

// checkPredicates reports whether a match passes its pattern's predicates.
// A predicate on a capture that matched several nodes holds when one of them
// satisfies it (for the negated forms: when none contradicts it).
func checkPredicates(ps []predicate, m *sitter.QueryMatch, src []byte) bool {
	for _, p := range ps {
		var other string
		if p.other >= 0 {
			found := false
			for _, c := range m.Captures {
				if int64(c.Index) == p.other {
					other, found = c.Node.Content(src), true
					break
				}
			}
			if !found {
				return false
			}
		}
		any := false
		for _, c := range m.Captures {
			if c.Index != p.capture {
				continue
			}
			text := c.Node.Content(src)
			var ok bool
			switch {
			case p.op == "match":
				ok = p.re.MatchString(text)
			case p.other >= 0:
				ok = text == other
			default:
				ok = text == p.text
			}
			if ok {
				any = true
				break
			}
		}
		if any == p.negate {
			return false
		}
	}
	return true
}
