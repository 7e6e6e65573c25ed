package ingest

import (
	"context"
	"errors"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/golang"
)

// Symbol kinds.
const (
	SymFunc   = "func"
	SymMethod = "method"
	SymType   = "type"
	SymConst  = "const"
	SymVar    = "var"
)

// Symbol is one top-level definition in a source file.
type Symbol struct {
	// Name is the identifier; for methods it is "Recv.Name" (receiver
	// type without pointer or type arguments), so it is unique in a package.
	Name string
	// Kind is one of func, method, type, const, var.
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
	parser := sitter.NewParser()
	defer parser.Close()
	parser.SetLanguage(golang.GetLanguage())
	tree, err := parser.ParseCtx(context.Background(), nil, src)
	if err != nil {
		return nil, err
	}
	if tree == nil {
		return nil, errors.New("tree-sitter returned no tree")
	}
	defer tree.Close()

	root := tree.RootNode()
	var syms []Symbol
	for i := 0; i < int(root.NamedChildCount()); i++ {
		n := root.NamedChild(i)
		if n == nil {
			continue
		}
		switch n.Type() {
		case "function_declaration":
			if s, ok := goFunc(n, src, SymFunc); ok {
				syms = append(syms, s)
			}
		case "method_declaration":
			if s, ok := goFunc(n, src, SymMethod); ok {
				syms = append(syms, s)
			}
		case "type_declaration":
			for j := 0; j < int(n.NamedChildCount()); j++ {
				c := n.NamedChild(j)
				if c != nil && (c.Type() == "type_spec" || c.Type() == "type_alias") {
					if s, ok := goTypeSpec(c, src); ok {
						syms = append(syms, s)
					}
				}
			}
		case "const_declaration":
			syms = goValueSpecs(n, src, SymConst, syms)
		case "var_declaration":
			syms = goValueSpecs(n, src, SymVar, syms)
		}
	}
	return syms, nil
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

// goValueSpecs appends one symbol per name declared in a const or var
// declaration, grouped or not.
func goValueSpecs(decl *sitter.Node, src []byte, kind string, syms []Symbol) []Symbol {
	var specs []*sitter.Node
	for i := 0; i < int(decl.NamedChildCount()); i++ {
		c := decl.NamedChild(i)
		if c == nil {
			continue
		}
		switch c.Type() {
		case "const_spec", "var_spec":
			specs = append(specs, c)
		case "var_spec_list":
			for j := 0; j < int(c.NamedChildCount()); j++ {
				if s := c.NamedChild(j); s != nil && s.Type() == "var_spec" {
					specs = append(specs, s)
				}
			}
		}
	}
	for _, spec := range specs {
		sig := kind + " " + firstLine(string(src[spec.StartByte():spec.EndByte()]))
		start, last := lines(spec)
		for j := 0; j < int(spec.NamedChildCount()); j++ {
			c := spec.NamedChild(j)
			if c == nil || c.Type() != "identifier" {
				continue
			}
			name := c.Content(src)
			if name == "_" {
				continue
			}
			syms = append(syms, Symbol{Name: name, Kind: kind, StartLine: start, EndLine: last, Signature: sig})
		}
	}
	return syms
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
