package syntax

import (
	"embed"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/bash"
	"github.com/smacker/go-tree-sitter/c"
	"github.com/smacker/go-tree-sitter/cpp"
	"github.com/smacker/go-tree-sitter/csharp"
	"github.com/smacker/go-tree-sitter/golang"
	"github.com/smacker/go-tree-sitter/java"
	"github.com/smacker/go-tree-sitter/javascript"
	"github.com/smacker/go-tree-sitter/kotlin"
	"github.com/smacker/go-tree-sitter/lua"
	"github.com/smacker/go-tree-sitter/php"
	"github.com/smacker/go-tree-sitter/python"
	"github.com/smacker/go-tree-sitter/ruby"
	"github.com/smacker/go-tree-sitter/rust"
	"github.com/smacker/go-tree-sitter/scala"
	"github.com/smacker/go-tree-sitter/typescript/tsx"
	"github.com/smacker/go-tree-sitter/typescript/typescript"

	"lore/ingest"
)

// queryFS holds the tags queries, one per language. Bump parseCacheVersion
// (cache.go) whenever a query or the extraction rules change.
//
//go:embed queries/*.scm
var queryFS embed.FS

// grammars maps a DetectLang name to its grammar.
var grammars = map[string]*grammar{}

func addGrammar(g *grammar) { grammars[g.name] = g }

// q names query files by language: q("typescript", "jsx").
func q(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + ".scm"
	}
	return out
}

func init() {
	addGrammar(&grammar{name: "go", lang: golang.GetLanguage, queries: q("go"), symbol: goSymbol, defDepth: 1})
	addGrammar(&grammar{name: "python", lang: python.GetLanguage, queries: q("python"), capsConst: true})
	addGrammar(&grammar{name: "javascript", lang: javascript.GetLanguage, queries: q("javascript", "jsx")})
	addGrammar(&grammar{name: "typescript", lang: typescript.GetLanguage, queries: q("typescript")})
	addGrammar(&grammar{name: "tsx", lang: tsx.GetLanguage, queries: q("typescript", "jsx")})
	addGrammar(&grammar{name: "rust", lang: rust.GetLanguage, queries: q("rust")})
	addGrammar(&grammar{name: "java", lang: java.GetLanguage, queries: q("java")})
	addGrammar(&grammar{name: "c", lang: c.GetLanguage, queries: q("c")})
	addGrammar(&grammar{name: "cpp", lang: cpp.GetLanguage, queries: q("cpp")})
	addGrammar(&grammar{name: "ruby", lang: ruby.GetLanguage, queries: q("ruby")})
	addGrammar(&grammar{name: "bash", lang: bash.GetLanguage, queries: q("bash")})
	addGrammar(&grammar{name: "php", lang: php.GetLanguage, queries: q("php")})
	addGrammar(&grammar{name: "csharp", lang: csharp.GetLanguage, queries: q("csharp")})
	addGrammar(&grammar{name: "kotlin", lang: kotlin.GetLanguage, queries: q("kotlin")})
	addGrammar(&grammar{name: "lua", lang: lua.GetLanguage, queries: q("lua"), capsConst: true, sharedScanner: true})
	addGrammar(&grammar{name: "scala", lang: scala.GetLanguage, queries: q("scala")})
}

// goSymbol keeps ParseGo's rules for Go: top-level definitions only,
// methods named "Recv.Name", a type's signature cut at its struct or
// interface body, a const or var with one symbol per name and the first
// line of its spec.
func goSymbol(d *rawDef, src []byte) (ingest.Symbol, bool) {
	n := d.node
	switch d.kind {
	case "function", "method":
		if p := n.Parent(); p == nil || p.Type() != "source_file" {
			return ingest.Symbol{}, false
		}
		kind := ingest.SymFunc
		if d.kind == "method" {
			kind = ingest.SymMethod
		}
		return goFunc(n, src, kind)
	case "type":
		if !goTopLevel(n, 1) {
			return ingest.Symbol{}, false
		}
		return goTypeSpec(n, src)
	case "constant", "variable":
		depth := 1
		if p := n.Parent(); p != nil && p.Type() == "var_spec_list" {
			depth = 2
		}
		if !goTopLevel(n, depth) {
			return ingest.Symbol{}, false
		}
		name := d.name.Content(src)
		if name == "_" {
			return ingest.Symbol{}, false
		}
		kind := ingest.SymConst
		if d.kind == "variable" {
			kind = ingest.SymVar
		}
		start, last := lines(n)
		return ingest.Symbol{
			Name:      name,
			Kind:      kind,
			StartLine: start,
			EndLine:   last,
			Signature: kind + " " + firstLine(string(src[n.StartByte():n.EndByte()])),
		}, true
	}
	return ingest.Symbol{}, false
}

// goTopLevel reports whether the node's ancestor depth levels up is the
// source file: a spec inside a declaration at the top level.
func goTopLevel(n *sitter.Node, depth int) bool {
	for range depth {
		if n = n.Parent(); n == nil {
			return false
		}
	}
	p := n.Parent()
	return p != nil && p.Type() == "source_file"
}
