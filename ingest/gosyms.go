package ingest

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
)

// Symbol kinds.
const (
	SymFunc   = "func"
	SymMethod = "method"
	SymType   = "type"
	SymConst  = "const"
	SymVar    = "var"
)

// Symbol is one definition in a source file (for Go: top-level only).
type Symbol struct {
	// Name is the identifier; for methods it is "Recv.Name" (receiver
	// type without pointer or type arguments), so it is unique in a package.
	Name string
	// Kind is one of func, method, type, const, var for Go; other languages
	// add class, struct, interface, enum, trait, module, macro, impl.
	Kind string
	// StartLine and EndLine are 1-based and inclusive.
	StartLine, EndLine int
	// Signature is the declaration up to its body, on one line, e.g.
	// "func (s *Server) Ask(ctx context.Context) error" or "type Server struct".
	Signature string
}

// maxValueSig bounds the length of a const/var/type signature whose text
// runs on (a long literal value): the map lists what exists, not its values.
const maxValueSig = 160

// ParseGo returns the top-level definitions of a Go source file: functions,
// methods, types, constants and variables, in source order. Syntax errors do
// not fail it: tree-sitter recovers and the definitions it still recognises
// are returned. An error means the parser produced no tree at all.
func ParseGo(src []byte) ([]Symbol, error) {
	p, err := Parse("go", src)
	return p.Symbols, err
}

func lines(n *sitter.Node) (int, int) {
	return int(n.StartPoint().Row) + 1, int(n.EndPoint().Row) + 1
}

func goFunc(n *sitter.Node, src []byte, kind string) (Symbol, bool) {
	nameNode := n.ChildByFieldName("name")
	if nameNode == nil {
		return Symbol{}, false
	}
	name := nameNode.Content(src)
	if kind == SymMethod {
		if recv := receiverType(n, src); recv != "" {
			name = recv + "." + name
		}
	}
	end := n.EndByte()
	if body := n.ChildByFieldName("body"); body != nil {
		end = body.StartByte()
	}
	start, last := lines(n)
	return Symbol{
		Name:      name,
		Kind:      kind,
		StartLine: start,
		EndLine:   last,
		Signature: squash(string(src[n.StartByte():end])),
	}, true
}

// receiverType returns the receiver's base type name: "Server" for
// "(s *Server)" and "List" for "(l *List[T])".
func receiverType(n *sitter.Node, src []byte) string {
	recv := n.ChildByFieldName("receiver")
	if recv == nil {
		return ""
	}
	for i := 0; i < int(recv.NamedChildCount()); i++ {
		p := recv.NamedChild(i)
		if p == nil || p.Type() != "parameter_declaration" {
			continue
		}
		t := p.ChildByFieldName("type")
		if t == nil {
			return ""
		}
		s := strings.TrimSpace(t.Content(src))
		s = strings.TrimLeft(s, "*( \t")
		if k := strings.IndexAny(s, "[) \t"); k >= 0 {
			s = s[:k]
		}
		return s
	}
	return ""
}

func goTypeSpec(n *sitter.Node, src []byte) (Symbol, bool) {
	nameNode := n.ChildByFieldName("name")
	if nameNode == nil {
		return Symbol{}, false
	}
	text := string(src[n.StartByte():n.EndByte()])
	if t := n.ChildByFieldName("type"); t != nil && (t.Type() == "struct_type" || t.Type() == "interface_type") {
		// Cut at the body's brace: "type Server struct".
		body := string(src[t.StartByte():t.EndByte()])
		if k := strings.IndexByte(body, '{'); k >= 0 {
			text = string(src[n.StartByte() : int(t.StartByte())+k])
		}
	}
	start, last := lines(n)
	return Symbol{
		Name:      nameNode.Content(src),
		Kind:      SymType,
		StartLine: start,
		EndLine:   last,
		Signature: "type " + firstLine(text),
	}, true
}

// squash puts a declaration on one line: runs of white space become one
// space, and a trailing comma before a closing parenthesis goes.
func squash(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, ", )", ")")
	s = strings.ReplaceAll(s, "( ", "(")
	return s
}

// firstLine keeps the first line of a declaration whose value runs on, marks
// the cut with " …", squashes white space and bounds the length.
func firstLine(s string) string {
	cut := false
	if k := strings.IndexByte(s, '\n'); k >= 0 {
		s, cut = s[:k], true
	}
	s = squash(s)
	if len(s) > maxValueSig {
		k := maxValueSig
		for k > 0 && !isRuneStart(s[k]) {
			k--
		}
		s, cut = s[:k], true
	}
	if cut {
		s = strings.TrimRight(s, " ") + " …"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
