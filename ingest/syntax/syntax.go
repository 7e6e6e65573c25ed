// Package syntax finds the definitions, signatures and references of source
// files with tree-sitter (Parse), caches them by content hash (Fill), reduces
// a file to its signatures (Skeleton) and names a file's language
// (DetectLang). The tree walker that speeds up the queries reads
// go-tree-sitter's internals through unsafe and stays private here.
package syntax

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	sitter "github.com/smacker/go-tree-sitter"

	"lore/ingest"
)

// Parsed is what tree-sitter finds in one source file.
type Parsed struct {
	// Symbols are the definitions, in source order (by start). A method's
	// Name is "Container.name" (the enclosing class, struct, trait, impl or
	// receiver type), so the bare identifier is the part after the last dot.
	Symbols []ingest.Symbol
	// Refs are the identifiers the file uses (called functions and methods,
	// named types, constructed classes, ...), sorted and unique. They may
	// include the file's own definitions.
	Refs []string
}

// maxSig bounds a signature cut at the body of its definition (a function
// header with many parameters); longer ones end in " …".
const maxSig = 240

// maxRef bounds the length of a reference: longer "identifiers" are noise
// from broken input.
const maxRef = 128

// parseTimeout bounds one tree-sitter parse (in microseconds): a file that
// takes longer yields no symbols rather than stalling the scan.
const parseTimeout = 10_000_000

// parseCount counts tree-sitter parses (tests check that a warm cache
// parses nothing).
var parseCount atomic.Int64

// Parse returns the definitions and references of a source file in lang, a
// name that DetectLang returns. A language without a grammar gives an empty
// Parsed and no error. Syntax errors do not fail it: tree-sitter recovers and
// what it still recognises is returned. An error means no tree at all (the
// parse timed out or the grammar failed); the Parsed is then empty, and the
// file's text is still usable as plain text.
func Parse(lang string, src []byte) (p Parsed, err error) {
	g := grammarFor(lang)
	if g == nil {
		return Parsed{}, nil
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = Parsed{}, fmt.Errorf("parse %s: internal error: %v", lang, r)
		}
	}()
	q, preds, err := g.compiled()
	if err != nil {
		return Parsed{}, err
	}
	parseCount.Add(1)
	parser := g.getParser()
	tree, err := g.parse(parser, src)
	if err != nil || tree == nil {
		parser.Reset() // a cut-short parse would otherwise resume next time
		g.putParser(parser)
		if err == nil {
			err = errors.New("tree-sitter returned no tree")
		}
		return Parsed{}, fmt.Errorf("parse %s: %w", lang, err)
	}
	defer g.putParser(parser)
	defer tree.Close()
	return g.extract(q, preds, tree.RootNode(), src), nil
}

// Languages returns the names (as DetectLang gives them) that Parse
// understands, sorted.
func Languages() []string {
	out := make([]string, 0, len(grammars))
	for name := range grammars {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// grammar is one language: its tree-sitter grammar, its tags query and the
// rules that turn query matches into symbols.
type grammar struct {
	name    string
	lang    func() *sitter.Language
	queries []string // file names under queries/, concatenated

	// capsConst makes a variable whose name is in upper case a constant
	// (Python, Bash: languages without a const keyword).
	capsConst bool
	// symbol, when set, builds the symbol of a definition itself (Go keeps
	// its own signature rules); ok false drops the definition.
	symbol func(d *rawDef, src []byte) (s ingest.Symbol, ok bool)
	// defDepth, when set, is how deep in the tree (the root is 0) the
	// definitions that symbol keeps start: the query looks no deeper for
	// them (references are found at any depth).
	defDepth uint32
	// sharedScanner marks a grammar whose external scanner keeps its state
	// in C globals instead of its payload (Lua's, at the pinned
	// go-tree-sitter): two parses at once corrupt each other's trees, so
	// its parses take turns on parseMu.
	sharedScanner bool
	parseMu       sync.Mutex

	once    sync.Once
	q       *sitter.Query
	preds   [][]predicate
	caps    []capture // by capture index
	qerr    error
	fast    *fastQuery // nil: q does all
	parsers sync.Pool
}

// fastQuery is the query split for a tree without syntax errors: the chain
// references, found by a walk of the tree (walk.go), and a query of
// the other patterns.
type fastQuery struct {
	refs  *chainRefs
	q     *sitter.Query // nil when no pattern is left
	preds [][]predicate
	caps  []capture
}

func grammarFor(lang string) *grammar { return grammars[lang] }

// compiled returns the language's query, compiled once and kept for the
// life of the process (a query is read-only and safe to share; each use has
// its own cursor).
func (g *grammar) compiled() (*sitter.Query, [][]predicate, error) {
	g.once.Do(func() {
		var src []byte
		for _, name := range g.queries {
			b, err := queryFS.ReadFile("queries/" + name)
			if err != nil {
				g.qerr = err
				return
			}
			src = append(append(src, b...), '\n')
		}
		name := strings.Join(g.queries, "+")
		q, err := sitter.NewQuery(src, g.lang())
		if err != nil {
			g.qerr = fmt.Errorf("query %s: %w", name, err)
			return
		}
		preds, err := compilePredicates(q)
		if err != nil {
			q.Close()
			g.qerr = fmt.Errorf("query %s: %w", name, err)
			return
		}
		g.q, g.preds, g.caps = q, preds, captures(q)
		g.fast = g.split(src)
	})
	return g.q, g.preds, g.qerr
}

func captures(q *sitter.Query) []capture {
	caps := make([]capture, q.CaptureCount())
	for i := range caps {
		caps[i] = parseCapture(q.CaptureNameForId(uint32(i)))
	}
	return caps
}

// split builds the fast form of the query whose source is src, or nil when
// it gains nothing or cannot be built.
func (g *grammar) split(src []byte) *fastQuery {
	if !sitterLayoutOK {
		return nil
	}
	refs, rest, ok := splitChainRefs(src, g.lang())
	if !ok || len(refs.rules) == 0 && g.defDepth == 0 {
		return nil
	}
	f := &fastQuery{refs: refs}
	if len(bytes.TrimSpace(rest)) == 0 {
		return f
	}
	q, err := sitter.NewQuery(rest, g.lang())
	if err != nil {
		return nil
	}
	if f.preds, err = compilePredicates(q); err != nil {
		q.Close()
		return nil
	}
	f.q, f.caps = q, captures(q)
	return f
}

// getParser takes a parser for the language from the pool. Parsers are not
// safe for concurrent use; a pooled one is used by one goroutine at a time,
// and one the pool drops is freed by its finalizer.
func (g *grammar) getParser() *sitter.Parser {
	if p, ok := g.parsers.Get().(*sitter.Parser); ok {
		return p
	}
	p := sitter.NewParser()
	p.SetLanguage(g.lang())
	p.SetOperationLimit(parseTimeout)
	return p
}

// parse runs parser over src, taking turns with the language's other
// parses where its scanner is shared.
func (g *grammar) parse(parser *sitter.Parser, src []byte) (*sitter.Tree, error) {
	if g.sharedScanner {
		g.parseMu.Lock()
		defer g.parseMu.Unlock()
	}
	return parser.ParseCtx(context.Background(), nil, src)
}

func (g *grammar) putParser(p *sitter.Parser) { g.parsers.Put(p) }

// rawDef is one definition as the query found it.
type rawDef struct {
	kind    string       // the capture's suffix: "function", "class", ...
	decl    bool         // a @declaration (a prototype): dropped where a definition has the same name
	node    *sitter.Node // the whole definition: its lines, its signature
	name    *sitter.Node
	scope   *sitter.Node // an explicit container (C++ "Class::method")
	body    *sitter.Node // where the signature stops, when the query says so
	pattern int
}

// Capture names the queries use, in the spirit of the tags queries of
// tree-sitter and aider:
//
//	@definition.<kind>   the node of a definition (function, method, class,
//	                     struct, interface, enum, trait, type, constant,
//	                     variable, module, macro, impl)
//	@declaration.<kind>  a declaration without body (a C prototype), kept only
//	                     when no definition of that name exists in the file
//	@name                the identifier naming the definition
//	@scope               an explicit container of a method ("Class" in
//	                     C++ "Class::method")
//	@body                where the signature stops (default: the node's body field)
//	@reference.<kind>    an identifier the file uses (call, type, class, ...)
//
// Any other capture (used by a predicate) is ignored.
var kindOf = map[string]string{
	"function":    ingest.SymFunc,
	"method":      ingest.SymMethod,
	"constructor": ingest.SymMethod,
	"class":       ingest.SymClass,
	"struct":      ingest.SymStruct,
	"union":       ingest.SymStruct,
	"interface":   ingest.SymInterface,
	"enum":        ingest.SymEnum,
	"trait":       ingest.SymTrait,
	"type":        ingest.SymType,
	"constant":    ingest.SymConst,
	"variable":    ingest.SymVar,
	"module":      ingest.SymModule,
	"object":      ingest.SymClass, // a singleton object (Kotlin, Scala)
	"macro":       ingest.SymMacro,
	"impl":        ingest.SymImpl,
}

// containers are the kinds whose functions are methods.
var containers = map[string]bool{
	ingest.SymClass: true, ingest.SymStruct: true, ingest.SymInterface: true, ingest.SymEnum: true,
	ingest.SymTrait: true, ingest.SymImpl: true,
}

// extract runs the query over the tree and builds the result.
func (g *grammar) extract(q *sitter.Query, preds [][]predicate, root *sitter.Node, src []byte) Parsed {
	return g.extractWith(g.fast, q, preds, root, src)
}

// extractWith is extract, with the fast form of the query f (nil: none).
// A tree with syntax errors is queried the plain way: there the query runs
// on its healthy subtrees only.
func (g *grammar) extractWith(f *fastQuery, q *sitter.Query, preds [][]predicate, root *sitter.Node, src []byte) Parsed {
	caps := g.caps
	var defs []*rawDef
	refs := map[string]bool{}
	if f != nil && !root.HasError() && f.refs.walk(root, src, refs) {
		if f.q != nil {
			qc := sitter.NewQueryCursor()
			qc.Exec(f.q, root)
			if g.defDepth > 0 {
				setMaxStartDepth(qc, g.defDepth)
			}
			defs = g.run(qc, f.q, f.preds, f.caps, src, defs, map[[3]uint32]*rawDef{}, refs)
			qc.Close()
		}
		return g.result(defs, refs, src)
	}
	clear(refs)
	roots := []*sitter.Node{root}
	if root.HasError() {
		roots = roots[:0]
		tc := sitter.NewTreeCursor(root)
		if healthySubtrees(tc, &roots) {
			roots = append(roots[:0], root)
		}
		tc.Close()
	}
	qc := sitter.NewQueryCursor()
	defer qc.Close()
	seen := map[[3]uint32]*rawDef{}
	for _, r := range roots {
		qc.Exec(q, r)
		defs = g.run(qc, q, preds, caps, src, defs, seen, refs)
	}
	return g.result(defs, refs, src)
}

// run reads the matches of an executed query cursor: it adds their
// references to refs, and their definitions to defs and seen (one per
// definition, which several matches may find).
func (g *grammar) run(qc *sitter.QueryCursor, q *sitter.Query, preds [][]predicate, caps []capture, src []byte, defs []*rawDef, seen map[[3]uint32]*rawDef, refs map[string]bool) []*rawDef {
	for {
		m, ok := qc.NextMatch()
		if !ok {
			break
		}
		if d := g.match(q, preds, caps, m, src, refs); d != nil {
			key := [3]uint32{d.node.StartByte(), d.node.EndByte(), d.name.StartByte()}
			if prev, ok := seen[key]; ok {
				// Several matches of one definition: the first pattern
				// wins, and the earliest body bounds the signature.
				if d.body != nil && (prev.body == nil || d.body.StartByte() < prev.body.StartByte()) {
					prev.body = d.body
				}
				if d.pattern < prev.pattern {
					prev.kind, prev.decl, prev.pattern, prev.scope = d.kind, d.decl, d.pattern, d.scope
				}
				continue
			}
			seen[key] = d
			defs = append(defs, d)
		}
	}
	return defs
}

// result builds the Parsed of the definitions and references found.
func (g *grammar) result(defs []*rawDef, refs map[string]bool, src []byte) Parsed {
	out := Parsed{Symbols: g.symbols(defs, src)}
	if len(refs) > 0 {
		out.Refs = make([]string, 0, len(refs))
		for r := range refs {
			out.Refs = append(out.Refs, r)
		}
		sort.Strings(out.Refs)
	}
	return out
}

// maxErrorFanout bounds the children of an ERROR node that a query visits.
// tree-sitter's query cursor takes time quadratic in a run of unnamed
// siblings, which only broken input has (a file of 20,000 "(" costs
// seconds): such ERROR nodes are left out.
const maxErrorFanout = 2000

// healthySubtrees appends to out the largest subtrees below the cursor's
// node that hold no ERROR node with more than maxErrorFanout children, and
// reports whether the node itself is such a subtree (then it appends
// nothing). The cursor ends where it started.
func healthySubtrees(tc *sitter.TreeCursor, out *[]*sitter.Node) bool {
	n := tc.CurrentNode()
	if !n.HasError() {
		return true
	}
	if n.IsError() && n.ChildCount() > maxErrorFanout {
		return false
	}
	if !tc.GoToFirstChild() {
		return true
	}
	var good []*sitter.Node
	all := true
	for {
		child := tc.CurrentNode()
		if healthySubtrees(tc, out) {
			good = append(good, child)
		} else {
			all = false
		}
		if !tc.GoToNextSibling() {
			break
		}
	}
	tc.GoToParent()
	if !all {
		*out = append(*out, good...)
	}
	return all
}

// match turns one query match into a definition (nil for none), adding
// its references to refs.
func (g *grammar) match(q *sitter.Query, preds [][]predicate, caps []capture, m *sitter.QueryMatch, src []byte, refs map[string]bool) *rawDef {
	if int(m.PatternIndex) < len(preds) && !checkPredicates(preds[m.PatternIndex], m, src) {
		return nil
	}
	d := &rawDef{pattern: int(m.PatternIndex)}
	for _, c := range m.Captures {
		if int(c.Index) >= len(caps) {
			continue
		}
		cp := caps[c.Index]
		switch cp.role {
		case roleName:
			d.name = c.Node
		case roleScope:
			d.scope = c.Node
		case roleBody:
			if d.body == nil || c.Node.StartByte() < d.body.StartByte() {
				d.body = c.Node
			}
		case roleDef, roleDecl:
			d.kind, d.node, d.decl = cp.kind, c.Node, cp.role == roleDecl
		case roleRef:
			if r := strings.TrimSpace(c.Node.Content(src)); validRef(r) {
				refs[r] = true
			}
		}
	}
	if d.node == nil || d.name == nil {
		return nil
	}
	return d
}

// capture is what a capture name means to extract.
type capture struct {
	role int
	kind string // for definitions and declarations: "function", "class", ...
}

const (
	roleOther = iota // used by predicates only
	roleName
	roleScope
	roleBody
	roleDef
	roleDecl
	roleRef
)

func parseCapture(name string) capture {
	switch {
	case name == "name":
		return capture{role: roleName}
	case name == "scope":
		return capture{role: roleScope}
	case name == "body":
		return capture{role: roleBody}
	case strings.HasPrefix(name, "definition."):
		return capture{role: roleDef, kind: name[len("definition."):]}
	case strings.HasPrefix(name, "declaration."):
		return capture{role: roleDecl, kind: name[len("declaration."):]}
	case strings.HasPrefix(name, "reference."):
		return capture{role: roleRef, kind: name[len("reference."):]}
	}
	return capture{role: roleOther}
}
