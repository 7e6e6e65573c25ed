package syntax

import (
	"bytes"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"lore/ingest"
)

// symbols turns the raw definitions into symbols in source order, naming
// methods after their container.
func (g *grammar) symbols(defs []*rawDef, src []byte) []ingest.Symbol {
	sort.SliceStable(defs, func(i, j int) bool {
		a, b := defs[i], defs[j]
		if a.node.StartByte() != b.node.StartByte() {
			return a.node.StartByte() < b.node.StartByte()
		}
		if a.node.EndByte() != b.node.EndByte() {
			return a.node.EndByte() > b.node.EndByte() // the outer one first
		}
		return a.name.StartByte() < b.name.StartByte()
	})
	type open struct {
		end  uint32
		kind string
		name string
	}
	var stack []open
	syms := make([]ingest.Symbol, 0, len(defs))
	decls := map[int]bool{} // indexes in syms of declarations
	for _, d := range defs {
		start := d.node.StartByte()
		for len(stack) > 0 && stack[len(stack)-1].end <= start {
			stack = stack[:len(stack)-1]
		}
		var s ingest.Symbol
		if g.symbol != nil {
			var ok bool
			if s, ok = g.symbol(d, src); !ok {
				continue
			}
		} else {
			s = genericSymbol(d, src)
			if s.Name == "" {
				continue
			}
			if g.capsConst && s.Kind == ingest.SymVar && isCaps(s.Name) {
				s.Kind = ingest.SymConst
			}
			bare := s.Name
			switch {
			case d.scope != nil:
				if sc := cleanName(d.scope.Content(src)); sc != "" {
					s.Name = sc + "." + s.Name
					if s.Kind == ingest.SymFunc {
						s.Kind = ingest.SymMethod
					}
				}
			case len(stack) > 0 && containers[stack[len(stack)-1].kind] && (s.Kind == ingest.SymFunc || s.Kind == ingest.SymMethod):
				s.Kind = ingest.SymMethod
				s.Name = stack[len(stack)-1].name + "." + s.Name
			}
			stack = append(stack, open{end: d.node.EndByte(), kind: s.Kind, name: bare})
		}
		if d.decl {
			decls[len(syms)] = true
		}
		syms = append(syms, s)
	}
	if len(decls) == 0 {
		return syms
	}
	defined := map[string]bool{}
	for i, s := range syms {
		if !decls[i] {
			defined[s.Name] = true
		}
	}
	kept := syms[:0]
	for i, s := range syms {
		if decls[i] && defined[s.Name] {
			continue
		}
		if decls[i] {
			defined[s.Name] = true // one prototype is enough
		}
		kept = append(kept, s)
	}
	return kept
}

// genericSymbol builds a symbol from a definition: its name, lines, and the
// text up to its body on one line.
func genericSymbol(d *rawDef, src []byte) ingest.Symbol {
	kind, ok := kindOf[d.kind]
	if !ok {
		kind = d.kind
	}
	start, last := lines(d.node)
	// Some grammars start a node at the white space before it (Lua) or end
	// it after the newline that closes it (C's #define): count lines from
	// the first to the last character that is not white space.
	from, to := d.node.StartByte(), min(d.node.EndByte(), uint32(len(src)))
	if from <= to {
		text := src[from:to]
		trimmed := bytes.TrimLeft(text, " \t\r\n")
		start += bytes.Count(text[:len(text)-len(trimmed)], []byte{'\n'})
		trimmed = bytes.TrimRight(text, " \t\r\n")
		last -= bytes.Count(text[len(trimmed):], []byte{'\n'})
	}
	if last < start {
		last = start
	}
	return ingest.Symbol{
		Name:      cleanName(d.name.Content(src)),
		Kind:      kind,
		StartLine: start,
		EndLine:   last,
		Signature: signature(d, src),
	}
}

// signature is the definition's text up to its body (the @body capture or
// the node's body field), squashed onto one line and bounded; without a
// body, its first line.
func signature(d *rawDef, src []byte) string {
	n := d.node
	body := d.body
	if body == nil {
		body = n.ChildByFieldName("body")
	}
	start, end := n.StartByte(), min(n.EndByte(), uint32(len(src)))
	if start > end {
		return ""
	}
	for start < end && isSpace(src[start]) {
		start++
	}
	if body == nil || body.StartByte() <= start || body.StartByte() > end {
		// The first line is enough: look no further than what firstLine keeps.
		stop := end
		if k := bytes.IndexByte(src[start:end], '\n'); k >= 0 {
			stop = start + uint32(k) + 1
		}
		if stop-start > 4*maxValueSig {
			stop = start + 4*maxValueSig
		}
		return strings.TrimRight(firstLine(strings.TrimRight(string(src[start:stop]), " \t\r\n")), " {:;")
	}
	// Cut before the body and the punctuation that opens it: "{", ":"
	// (Python), "=" (Scala, Kotlin).
	s := squash(string(src[start:body.StartByte()]))
	s = strings.TrimRight(s, " {:=")
	if len(s) > maxSig {
		k := maxSig
		for k > 0 && !isRuneStart(s[k]) {
			k--
		}
		s = strings.TrimRight(s[:k], " ") + " …"
	}
	return s
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// cleanName squashes white space out of a name (a qualified C++ name may
// hold some) and turns "::" into ".".
func cleanName(s string) string {
	s = strings.Join(strings.Fields(s), "")
	s = strings.ReplaceAll(s, "::", ".")
	if len(s) > maxRef {
		return ""
	}
	return s
}

// isCaps reports whether a name is an upper-case constant name: "MAX_SIZE".
func isCaps(s string) bool {
	if len(s) < 2 {
		return false // "T", "M": a type variable or a module table, not a constant
	}
	hasUpper := false
	for _, r := range s {
		switch {
		case unicode.IsUpper(r):
			hasUpper = true
		case r == '_' || unicode.IsDigit(r):
		default:
			return false
		}
	}
	return hasUpper
}

// validRef keeps identifier-like references: not empty, not too long, no
// white space or control characters, valid UTF-8.
func validRef(s string) bool {
	if s == "" || len(s) > maxRef || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
