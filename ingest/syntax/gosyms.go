package syntax

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"lore/ingest"
)

// maxValueSig bounds the length of a const/var/type signature whose text
// runs on (a long literal value): the map lists what exists, not its values.
const maxValueSig = 160

// ParseGo returns the top-level definitions of a Go source file: functions,
// methods, types, constants and variables, in source order. Syntax errors do
// not fail it: tree-sitter recovers and the definitions it still recognises
// are returned. An error means the parser produced no tree at all.
func ParseGo(src []byte) ([]ingest.Symbol, error) {
	p, err := Parse("go", src)
	return p.Symbols, err
}

func lines(n *sitter.Node) (int, int) {
	return int(n.StartPoint().Row) + 1, int(n.EndPoint().Row) + 1
}

func goFunc(n *sitter.Node, src []byte, kind string) (ingest.Symbol, bool) {
	nameNode := n.ChildByFieldName("name")
	if nameNode == nil {
		return ingest.Symbol{}, false
	}
	name := nameNode.Content(src)
	if kind == ingest.SymMethod {
		if recv := receiverType(n, src); recv != "" {
			name = recv + "." + name
		}
	}
	end := n.EndByte()
	if body := n.ChildByFieldName("body"); body != nil {
		end = body.StartByte()
	}
	start, last := lines(n)
	return ingest.Symbol{
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

func goTypeSpec(n *sitter.Node, src []byte) (ingest.Symbol, bool) {
	nameNode := n.ChildByFieldName("name")
	if nameNode == nil {
		return ingest.Symbol{}, false
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
	return ingest.Symbol{
		Name:      nameNode.Content(src),
		Kind:      ingest.SymType,
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
