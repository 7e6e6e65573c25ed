package syntax

/*
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>

// Declarations from tree-sitter's api.h: the library itself is compiled and
// linked in by github.com/smacker/go-tree-sitter.
typedef uint16_t TSSymbol;
typedef uint16_t TSFieldId;
typedef struct TSLanguage TSLanguage;
typedef struct TSTree TSTree;
typedef struct TSQueryCursor TSQueryCursor;
typedef struct TSNode { uint32_t context[4]; const void *id; const TSTree *tree; } TSNode;
typedef struct TSTreeCursor { const void *tree; const void *id; uint32_t context[3]; } TSTreeCursor;

TSSymbol ts_node_symbol(TSNode self);
uint32_t ts_node_start_byte(TSNode self);
uint32_t ts_node_end_byte(TSNode self);
bool ts_node_is_extra(TSNode self);
TSTreeCursor ts_tree_cursor_new(TSNode node);
void ts_tree_cursor_delete(TSTreeCursor *self);
TSNode ts_tree_cursor_current_node(const TSTreeCursor *self);
TSFieldId ts_tree_cursor_current_field_id(const TSTreeCursor *self);
bool ts_tree_cursor_goto_parent(TSTreeCursor *self);
bool ts_tree_cursor_goto_next_sibling(TSTreeCursor *self);
bool ts_tree_cursor_goto_first_child(TSTreeCursor *self);
void ts_query_cursor_set_max_start_depth(TSQueryCursor *self, uint32_t max_start_depth);
uint32_t ts_language_symbol_count(const TSLanguage *self);
TSSymbol ts_language_symbol_for_name(const TSLanguage *self, const char *string, uint32_t length, bool is_named);
int ts_language_symbol_type(const TSLanguage *self, TSSymbol symbol); // TSSymbolType: 0 is regular
TSFieldId ts_language_field_id_for_name(const TSLanguage *self, const char *name, uint32_t name_length);
uint32_t ts_language_field_count(const TSLanguage *self);

#define LORE_MAX_CHAIN 8

// lore_rule is a chain pattern, from the captured node up: sym[0] is its
// symbol, field[0] its field in its parent sym[1] (0: any), and so on.
typedef struct {
	uint16_t sym[LORE_MAX_CHAIN];
	uint16_t field[LORE_MAX_CHAIN];
	uint32_t len;
} lore_rule;

typedef struct {
	uint16_t sym, field;
	uint64_t seen; // the fields of rules met among the node's children so far
} lore_frame;

// lore_chain_refs walks the visible nodes below root and writes the byte
// ranges (start, end) of those that complete a rule to out, up to cap
// ranges. It returns how many there are (more than cap: call again with
// room for all), -1 when out of memory, or -2 when the tree has a node
// where the walk could disagree with the query cursor: one with several
// children of a field that a rule steps through (the cursor tries only the
// first of them when the grammar's field sits on a hidden node), or with an
// extra child (a comment, which the cursor may take for a field's node).
//
// marks, by symbol: bit 1 for the captured symbols of rules, bit 2 for
// every symbol of a rule (whose field is needed). pfields, by symbol: the
// field bits (fieldbits, by field id) of the rule steps whose parent it is.
static int64_t lore_chain_refs(TSNode root, const lore_rule *rules, uint32_t nrules,
		const uint8_t *marks, const uint64_t *pfields, uint32_t nsyms,
		const uint64_t *fieldbits, uint32_t nfields, uint32_t *out, int64_t cap) {
	uint32_t size = 256, depth = 0;
	lore_frame *stack = malloc(size * sizeof(lore_frame));
	if (!stack) return -1;
	int64_t n = 0;
	TSTreeCursor c = ts_tree_cursor_new(root);
	for (;;) {
		TSNode node = ts_tree_cursor_current_node(&c);
		TSSymbol sym = ts_node_symbol(node);
		uint8_t mark = sym < nsyms ? marks[sym] : 0;
		if (depth == size) {
			size *= 2;
			lore_frame *s = realloc(stack, size * sizeof(lore_frame));
			if (!s) {
				n = -1;
				break;
			}
			stack = s;
		}
		lore_frame *parent = depth > 0 ? &stack[depth - 1] : NULL;
		uint64_t pf = parent && parent->sym < nsyms ? pfields[parent->sym] : 0;
		TSFieldId field = (mark & 2) || pf ? ts_tree_cursor_current_field_id(&c) : 0;
		if (pf) {
			if (ts_node_is_extra(node)) {
				n = -2;
				break;
			}
			uint64_t bit = field < nfields ? fieldbits[field] & pf : 0;
			if (bit & parent->seen) {
				n = -2;
				break;
			}
			parent->seen |= bit;
		}
		stack[depth] = (lore_frame){sym, field, 0};
		if (mark & 1) {
			for (uint32_t r = 0; r < nrules; r++) {
				const lore_rule *rule = &rules[r];
				if (rule->sym[0] != sym || rule->len > depth + 1) continue;
				bool ok = true;
				for (uint32_t k = 0; k < rule->len && ok; k++) {
					const lore_frame *f = &stack[depth - k];
					ok = f->sym == rule->sym[k] &&
						(k + 1 == rule->len || rule->field[k] == 0 || f->field == rule->field[k]);
				}
				if (ok) {
					if (n < cap) {
						out[2 * n] = ts_node_start_byte(node);
						out[2 * n + 1] = ts_node_end_byte(node);
					}
					n++;
					break;
				}
			}
		}
		if (ts_tree_cursor_goto_first_child(&c)) {
			depth++;
			continue;
		}
		while (!ts_tree_cursor_goto_next_sibling(&c)) {
			if (!ts_tree_cursor_goto_parent(&c)) goto done;
			depth--;
		}
	}
done:
	ts_tree_cursor_delete(&c);
	free(stack);
	return n;
}

static uint16_t lore_symbol(const TSLanguage *lang, _GoString_ name) {
	size_t len = _GoStringLen(name);
	if (len == 0) return 0;
	TSSymbol sym = ts_language_symbol_for_name(lang, _GoStringPtr(name), len, true);
	if (sym == 0 || sym == (TSSymbol)-1 || ts_language_symbol_type(lang, sym) != 0) return 0;
	return sym;
}

static uint16_t lore_field(const TSLanguage *lang, _GoString_ name) {
	size_t len = _GoStringLen(name);
	if (len == 0) return 0;
	return ts_language_field_id_for_name(lang, _GoStringPtr(name), len);
}
*/
import "C"

import (
	"bytes"
	"reflect"
	"strings"
	"unsafe"

	sitter "github.com/smacker/go-tree-sitter"
)

// References are most of what a tags query matches, and tree-sitter's query
// cursor costs far more per node than a plain walk of the tree. So a query's
// simple reference patterns, chains like
//
//	(call_expression function: (selector_expression field: (field_identifier) @reference.call))
//
// are matched by lore_chain_refs in one walk of the tree, and the query
// cursor runs the other patterns only (the definitions, and references with
// predicates or siblings), no deeper than the grammar's defDepth. A tree
// with syntax errors is still queried the plain way (see extract).
//
// The walk needs the C values behind go-tree-sitter's Node, QueryCursor and
// Language, which that package keeps unexported: sitterLayoutOK checks that
// their layout is the one this file assumes, else the plain way is used.

// sitterLayoutOK reports whether sitter.Node starts with its C TSNode,
// sitter.QueryCursor with its *TSQueryCursor and sitter.Language with its
// *TSLanguage.
var sitterLayoutOK = func() bool {
	first := func(v any, name string, size uintptr, kind reflect.Kind) bool {
		t := reflect.TypeOf(v)
		if t.NumField() == 0 {
			return false
		}
		f := t.Field(0)
		return f.Name == name && f.Offset == 0 && f.Type.Size() == size && f.Type.Kind() == kind
	}
	return first(sitter.Node{}, "c", unsafe.Sizeof(C.TSNode{}), reflect.Struct) &&
		first(sitter.QueryCursor{}, "c", unsafe.Sizeof(uintptr(0)), reflect.Pointer) &&
		first(sitter.Language{}, "ptr", unsafe.Sizeof(uintptr(0)), reflect.UnsafePointer)
}()

func cNode(n *sitter.Node) C.TSNode { return *(*C.TSNode)(unsafe.Pointer(n)) }

func cLanguage(l *sitter.Language) *C.TSLanguage {
	return (*C.TSLanguage)(*(*unsafe.Pointer)(unsafe.Pointer(l)))
}

// setMaxStartDepth makes the cursor's next matches start no deeper than
// depth below the node it runs on.
func setMaxStartDepth(qc *sitter.QueryCursor, depth uint32) {
	C.ts_query_cursor_set_max_start_depth(*(**C.TSQueryCursor)(unsafe.Pointer(qc)), C.uint32_t(depth))
}

// chainRefs is the compiled form of a query's chain reference patterns.
type chainRefs struct {
	rules     []C.lore_rule
	marks     []uint8  // by symbol: 1 captured by a rule, 2 in a rule
	pfields   []uint64 // by symbol: the bits of the fields of the rule steps into its children
	fieldBits []uint64 // by field id: a bit for each field a rule steps through, else 0
}

// walk adds the text of the nodes below root that the rules capture to refs,
// as match does for query captures. It returns false, having added nothing,
// where the query is needed instead.
func (cr *chainRefs) walk(root *sitter.Node, src []byte, refs map[string]bool) bool {
	if len(cr.rules) == 0 {
		return true
	}
	buf := make([]uint32, 2*(len(src)/16+64))
	for {
		n := int64(C.lore_chain_refs(cNode(root), &cr.rules[0], C.uint32_t(len(cr.rules)),
			(*C.uint8_t)(&cr.marks[0]), (*C.uint64_t)(&cr.pfields[0]), C.uint32_t(len(cr.marks)),
			(*C.uint64_t)(&cr.fieldBits[0]), C.uint32_t(len(cr.fieldBits)),
			(*C.uint32_t)(&buf[0]), C.int64_t(len(buf)/2)))
		if n < 0 {
			return false
		}
		if 2*n > int64(len(buf)) {
			buf = make([]uint32, 2*n)
			continue
		}
		for i := int64(0); i < n; i++ {
			start, end := buf[2*i], buf[2*i+1]
			if start > end || end > uint32(len(src)) {
				continue
			}
			b := bytes.TrimSpace(src[start:end])
			if refs[string(b)] {
				continue
			}
			if r := string(b); validRef(r) {
				refs[r] = true
			}
		}
		return true
	}
}

// splitChainRefs separates a query's source into the chain reference
// patterns, compiled for lang, and the source of the other patterns, in
// their order. ok is false when the query cannot be split (then neither
// result is to be used).
func splitChainRefs(src []byte, lang *sitter.Language) (cr *chainRefs, rest []byte, ok bool) {
	pats, ok := splitPatterns(src)
	if !ok {
		return nil, nil, false
	}
	cl := cLanguage(lang)
	nsyms := int(C.ts_language_symbol_count(cl))
	cr = &chainRefs{
		marks:     make([]uint8, nsyms),
		pfields:   make([]uint64, nsyms),
		fieldBits: make([]uint64, int(C.ts_language_field_count(cl))+1),
	}
	nbits := 0
	for _, p := range pats {
		syms, fields, isChain := chainPattern(p.toks)
		var rule C.lore_rule
		if isChain {
			rule.len = C.uint32_t(len(syms))
			for i := range syms {
				sym := C.lore_symbol(cl, syms[i])
				field := C.lore_field(cl, fields[i])
				if sym == 0 || int(sym) >= len(cr.marks) || (fields[i] != "" && (field == 0 || int(field) >= len(cr.fieldBits))) {
					isChain = false // let the query judge (or reject) it
					break
				}
				if field != 0 && cr.fieldBits[field] == 0 {
					if nbits == 64 {
						isChain = false
						break
					}
					cr.fieldBits[field] = 1 << nbits
					nbits++
				}
				rule.sym[i], rule.field[i] = sym, field
			}
		}
		if !isChain {
			rest = append(append(rest, src[p.start:p.end]...), '\n')
			continue
		}
		cr.rules = append(cr.rules, rule)
		cr.marks[rule.sym[0]] |= 1
		for i := range int(rule.len) {
			cr.marks[rule.sym[i]] |= 2
			if i+1 < int(rule.len) && rule.field[i] != 0 {
				cr.pfields[rule.sym[i+1]] |= cr.fieldBits[rule.field[i]]
			}
		}
	}
	return cr, rest, true
}

// scmPattern is one top-level pattern of a query: its tokens and where its
// text is.
type scmPattern struct {
	toks       []string
	start, end int
}

// splitPatterns cuts a query's source into its top-level patterns. Its
// tokenizer knows enough of the query syntax to find where patterns end:
// parentheses, brackets, strings, comments; the query compiler checks the
// rest.
func splitPatterns(src []byte) ([]scmPattern, bool) {
	var pats []scmPattern
	depth := 0
	for i := 0; i < len(src); {
		c := src[i]
		start := i
		var tok string
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == ';':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '"':
			i++
			for i < len(src) && src[i] != '"' {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(src) {
				return nil, false
			}
			i++
		case c == '@' || c == '#' || isScmName(c):
			i++
			for i < len(src) && (isScmName(src[i]) || c == '@' && src[i] == '.' || c == '#' && (src[i] == '?' || src[i] == '!')) {
				i++
			}
		default:
			i++
		}
		tok = string(src[start:i])
		// A pattern starts at depth 0 with a node, an alternation, a
		// string or a wildcard; captures and quantifiers after it belong
		// to it.
		attached := tok[0] == '@' || tok == "*" || tok == "+" || tok == "?" ||
			tok == "(" && i < len(src) && src[i] == '#' // a predicate
		if depth == 0 && !(attached && len(pats) > 0) {
			pats = append(pats, scmPattern{start: start})
		}
		p := &pats[len(pats)-1]
		p.toks = append(p.toks, tok)
		p.end = i
		switch tok {
		case "(", "[":
			depth++
		case ")", "]":
			if depth--; depth < 0 {
				return nil, false
			}
		}
	}
	return pats, depth == 0
}

func isScmName(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// chainPattern reports whether a pattern is a chain: nested nodes, each
// with one child at most, named by their type and optionally a field, with
// one capture, a @reference.*, on the innermost node only. syms and fields
// run from that node up; fields[i] is the field of syms[i] ("" for any).
func chainPattern(toks []string) (syms, fields []string, ok bool) {
	// ( NAME [FIELD :] ( NAME ... ) ) ... with captures only after the
	// innermost ")".
	var names, fs []string
	i, field := 0, ""
	for {
		if i+1 >= len(toks) || toks[i] != "(" || !isScmIdent(toks[i+1]) || toks[i+1] == "_" {
			return nil, nil, false
		}
		names, fs = append(names, toks[i+1]), append(fs, field)
		i += 2
		if i+2 < len(toks) && isScmIdent(toks[i]) && toks[i+1] == ":" {
			field = toks[i]
			i += 2
			continue
		}
		if i < len(toks) && toks[i] == "(" {
			field = ""
			continue
		}
		break
	}
	// The innermost node's ")" and its capture, then the other ")".
	if i+1 >= len(toks) || toks[i] != ")" || !strings.HasPrefix(toks[i+1], "@") ||
		parseCapture(toks[i+1][1:]).role != roleRef {
		return nil, nil, false
	}
	i += 2
	for range len(names) - 1 {
		if i >= len(toks) || toks[i] != ")" {
			return nil, nil, false
		}
		i++
	}
	if i != len(toks) || len(names) > C.LORE_MAX_CHAIN {
		return nil, nil, false
	}
	// Leaf first; a node's field is the one written before it.
	for k := len(names) - 1; k >= 0; k-- {
		syms, fields = append(syms, names[k]), append(fields, fs[k])
	}
	return syms, fields, true
}

func isScmIdent(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !isScmName(t[i]) {
			return false
		}
	}
	return true
}
