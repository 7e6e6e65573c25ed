package syntax

import (
	"slices"
	"testing"
)

// TestParseExtras covers query patterns the main samples do not reach.
func TestParseExtras(t *testing.T) {
	for _, c := range []struct {
		lang, src string
		syms      []string // "kind name start-end", a subset, in order
		refs      []string
	}{
		{"cpp", "struct Vec {\n  Vec operator+(const Vec& o) const { return add(o); }\n  int& at(int i) { return v[i]; }\n};\ntemplate <typename T> class Box { T get() { return t; } };\n",
			[]string{"struct Vec 1-4", "method Vec.operator+ 2-2", "method Vec.at 3-3", "class Box 5-5", "method Box.get 5-5"}, []string{"add"}},
		{"javascript", "function* gen() { yield 1; }\nexport const handler = async (req) => { return respond(req); };\nclass A { static #priv() {} }\n",
			[]string{"func gen 1-1", "func handler 2-2", "class A 3-3"}, []string{"respond"}},
		{"typescript", "declare module \"m\" { export function g(): void; }\nexport default class extends Base {}\nfunction over(a: string): void;\nfunction over(a: any) {}\n",
			[]string{"func over 4-4"}, []string{"Base"}},
		{"csharp", "namespace Foo.Bar;\npublic delegate void Handler(int x);\npublic class C { void M() { var l = new List<int>(); l.Add(1); } }\n",
			[]string{"module Foo.Bar 1-1", "type Handler 2-2", "class C 3-3", "method C.M 3-3"}, []string{"Add", "List"}},
		{"python", "@dataclass\nclass P:\n    x: int = 0\n\n    @staticmethod\n    def make() -> 'P':\n        return P()\n",
			[]string{"class P 2-7", "var x 3-3", "method P.make 6-7"}, []string{"P", "dataclass", "staticmethod"}},
		{"rust", "impl<T> From<T> for Wrapper<T> { fn from(t: T) -> Self { Wrapper(t) } }\nfn main() { let v: Vec<i32> = Vec::new(); println!(\"{}\", v.len()); v.push(1); }\n",
			[]string{"impl Wrapper 1-1", "method Wrapper.from 1-1", "func main 2-2"}, []string{"From", "Vec", "new", "println", "push"}},
		{"go", "package p\nfunc F[T any](x T) T { return G[T](x) }\nfunc init() { var _ = F[int](1) }\n",
			[]string{"func F 2-2", "func init 3-3"}, []string{"G"}},
		{"ruby", "class Foo\n  class << self\n    def helper; end\n  end\nend\nmodule A::B\n  X = 1\nend\n",
			[]string{"class Foo 1-5", "method Foo.helper 3-3", "module A.B 6-8", "const X 7-7"}, nil},
		{"php", "<?php\nnamespace App { function f() { return $o?->g(); } }\n",
			[]string{"module App 2-2", "func f 2-2"}, []string{"g"}},
	} {
		p, err := Parse(c.lang, []byte(c.src))
		if err != nil {
			t.Errorf("%s: %v", c.lang, err)
			continue
		}
		var got []string
		for _, s := range p.Symbols {
			got = append(got, symLine(s))
		}
		i := 0
		for _, g := range got {
			if i < len(c.syms) && g == c.syms[i] {
				i++
			}
		}
		if i < len(c.syms) {
			t.Errorf("%s: symbols %q lack %q (in order)", c.lang, got, c.syms[i:])
		}
		for _, r := range c.refs {
			if !slices.Contains(p.Refs, r) {
				t.Errorf("%s: refs %q lack %q", c.lang, p.Refs, r)
			}
		}
	}
}
