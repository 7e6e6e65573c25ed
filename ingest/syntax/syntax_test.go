package syntax

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"

	"lore/ingest"
)

// syntaxSamples holds one realistic source file per language: a class (or
// the language's nearest thing) with methods, a function, a constant and
// calls.
var syntaxSamples = map[string]string{
	"go": `package demo
import "fmt"
const Max = 10
type Server struct{ name string }
type Asker interface{ Ask() error }
func New(name string) *Server { return &Server{name: name} }
func (s *Server) Ask() error { fmt.Println(s.name); return helper(s) }
func helper(a Asker) error { var x io.Reader; _ = x; return nil }
`,
	"python": `import os
MAX_SIZE = 10
counter = 0

class Greeter(Base):
    """Doc."""
    LIMIT: int = 3

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def greet(self, loud=False) -> str:
        return helper(self.name).upper()

async def helper(x):
    return os.path.join(x, Greeter(x))

def outer():
    def inner():
        pass
    return inner
`,
	"javascript": `import { x } from "y";
const MAX = 10;
let counter = 0;
export class Greeter extends Base {
  constructor(name) { this.name = name; }
  greet(loud) { return helper(this.name).toUpperCase(); }
  static make() { return new Greeter("x"); }
}
function helper(x) { return x; }
const arrow = (a, b) => a + b;
export default function named() {}
var fn = function() { helper(1); };
`,
	"typescript": `export const MAX: number = 10;
export interface Shape { area(): number; name: string }
type Alias = string | number;
enum Color { Red, Green }
export abstract class Greeter<T> extends Base implements Shape {
  private name: string;
  constructor(name: string) { super(); this.name = name; }
  greet(loud: boolean): string { return helper(this.name); }
  abstract area(): number;
}
function helper(x: string): string { return x.toUpperCase(); }
const arrow = (a: number): number => a + 1;
declare function ext(a: number): void;
namespace NS { export function f() {} }
let v: Shape = new Greeter<string>("x");
`,
	"tsx": `import React from "react";
export const LIMIT = 3;
interface Props { name: string }
export function Hello({ name }: Props): JSX.Element {
  return <div onClick={() => handle(name)}>{format(name)}</div>;
}
export class Widget extends React.Component<Props> {
  render() { return <Hello name="x" />; }
}
const Arrow = (p: Props) => <span>{p.name}</span>;
`,
	"rust": `use std::fmt;
pub const MAX: usize = 10;
static mut COUNTER: u32 = 0;
pub struct Point<T> { x: T, y: T }
pub enum Shape { Circle(f64), Square(f64) }
pub trait Area { fn area(&self) -> f64; fn name(&self) -> String { String::new() } }
type Alias = Vec<u8>;
impl<T: Copy> Point<T> {
    pub fn new(x: T, y: T) -> Self { Point { x, y } }
    fn get(&self) -> T { self.x }
}
impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { write!(f, "x") }
}
pub fn helper(v: &Point<i32>) -> i32 { let s = Shape::Circle(1.0); compute(v.get()) + s.area() as i32 }
macro_rules! square { ($x:expr) => { $x * $x }; }
mod inner { pub fn f() {} }
union U { a: u32 }
`,
	"java": `package demo;
import java.util.List;
public class Greeter extends Base implements Runnable {
    public static final int MAX = 10;
    private String name;
    public Greeter(String name) { this.name = name; }
    public String greet(boolean loud) { return helper(name).toUpperCase(); }
    static String helper(String x) { return x; }
    interface Inner { void run(); }
    enum Color { RED, GREEN }
    record Pair(int a, int b) {}
    @Override public void run() { List<String> l = new ArrayList<>(); }
}
`,
	"c": `#include <stdio.h>
#define MAX 10
#define SQUARE(x) ((x)*(x))
static const int LIMIT = 3;
struct point { int x; int y; };
typedef struct point point_t;
typedef struct { int a; } anon_t;
enum color { RED, GREEN };
union u { int a; float b; };
int helper(int x);
static int *make(int n) { return malloc(n); }
int helper(int x) { return SQUARE(x) + compute(x); }
int main(int argc, char **argv) { point_t p; printf("%d\n", helper(argc)); return 0; }
`,
	"cpp": `#include <string>
#define MAX 10
namespace demo {
const int LIMIT = 3;
constexpr int kSize = 4;
class Greeter : public Base {
public:
    Greeter(std::string name);
    ~Greeter();
    std::string greet(bool loud) const;
    virtual int area() = 0;
    int inline_method() { return helper(1); }
private:
    std::string name_;
};
struct Point { int x, y; };
enum class Color { Red, Green };
using Alias = std::vector<int>;
template <typename T> T maxOf(T a, T b) { return a > b ? a : b; }
Greeter::Greeter(std::string name) : name_(name) {}
std::string Greeter::greet(bool loud) const { return helper(name_); }
int helper(int x) { Point p; return compute(x); }
}
`,
	"ruby": `require 'json'
MAX = 10
module Demo
  class Greeter < Base
    LIMIT = 3
    attr_reader :name
    def initialize(name)
      @name = name
    end
    def greet(loud = false)
      helper(@name).upcase
    end
    def self.make
      Greeter.new("x")
    end
  end
end
def helper(x)
  puts x
end
`,
	"bash": `#!/bin/bash
readonly MAX=10
COUNT=0
greet() {
  local name="$1"
  echo "hello $name"
  helper "$name"
}
function helper {
  printf '%s\n' "$1" | tr a-z A-Z
}
greet world
`,
	"php": `<?php
namespace Demo;
use Foo\Bar;
const MAX = 10;
interface Shape { public function area(): float; }
trait Named { public function name() { return $this->name; } }
class Greeter extends Base implements Shape {
    const LIMIT = 3;
    private string $name;
    public function __construct(string $name) { $this->name = $name; }
    public function greet(bool $loud = false): string { return helper($this->name); }
    public static function make(): self { return new Greeter("x"); }
    public function area(): float { return 0.0; }
}
function helper(string $x): string { return strtoupper($x); }
enum Suit { case Hearts; }
`,
	"csharp": `using System;
namespace Demo {
    public interface IShape { double Area(); }
    public enum Color { Red, Green }
    public struct Point { public int X; }
    public record Pair(int A, int B);
    public class Greeter : Base, IShape {
        public const int Max = 10;
        private string name;
        public Greeter(string name) { this.name = name; }
        public string Greet(bool loud) { return Helper(name).ToUpper(); }
        public double Area() => 0;
        public string Name { get; set; }
        static string Helper(string x) { var g = new Greeter("x"); return x; }
    }
}
`,
	"kotlin": `package demo
import kotlin.math.max
const val MAX = 10
val counter = 0
interface Shape { fun area(): Double }
enum class Color { RED, GREEN }
data class Pair(val a: Int, val b: Int)
object Registry { fun register(x: Int) {} }
typealias Alias = List<Int>
class Greeter(private val name: String) : Base(), Shape {
    companion object { const val LIMIT = 3 }
    fun greet(loud: Boolean): String { return helper(name).uppercase() }
    override fun area(): Double = 0.0
}
fun helper(x: String): String { val g = Greeter("x"); return x }
`,
	"lua": `local M = {}
MAX = 10
local function helper(x) return string.upper(x) end
function M.greet(name) return helper(name) end
function M:method(a) self:other(a) end
function global_fn() print("x") end
local f = function(a) return a end
return M
`,
	"scala": `package demo
import scala.math.max
trait Shape { def area(): Double }
object Registry { val Max = 10; def register(x: Int): Unit = {} }
case class Pair(a: Int, b: Int)
class Greeter(name: String) extends Base with Shape {
  val limit = 3
  def greet(loud: Boolean): String = helper(name).toUpperCase
  override def area(): Double = 0.0
}
enum Color { case Red, Green }
type Alias = List[Int]
def helper(x: String): String = { val g = new Greeter("x"); x }
`,
}

type syntaxWant struct {
	syms []string          // "kind name start-end", exactly, in order
	sigs map[string]string // name -> signature, for some
	refs []string          // some of the references
}

var syntaxWants = map[string]syntaxWant{
	"go": {
		syms: []string{"const Max 3-3", "type Server 4-4", "type Asker 5-5", "func New 6-6", "method Server.Ask 7-7", "func helper 8-8"},
		sigs: map[string]string{"Server.Ask": "func (s *Server) Ask() error", "Server": "type Server struct"},
		refs: []string{"Asker", "Println", "Reader", "Server", "helper"},
	},
	"python": {
		syms: []string{"const MAX_SIZE 2-2", "var counter 3-3", "class Greeter 5-14", "const LIMIT 7-7",
			"method Greeter.__init__ 9-10", "method Greeter.greet 13-14", "func helper 16-17", "func outer 19-22", "func inner 20-21"},
		sigs: map[string]string{"Greeter": "class Greeter(Base)", "Greeter.greet": "def greet(self, loud=False) -> str",
			"helper": "async def helper(x)", "MAX_SIZE": "MAX_SIZE = 10"},
		refs: []string{"Base", "Greeter", "helper", "join", "property", "str", "upper"},
	},
	"javascript": {
		syms: []string{"const MAX 2-2", "var counter 3-3", "class Greeter 4-8", "method Greeter.constructor 5-5",
			"method Greeter.greet 6-6", "method Greeter.make 7-7", "func helper 9-9", "func arrow 10-10", "func named 11-11", "func fn 12-12"},
		sigs: map[string]string{"Greeter": "class Greeter extends Base", "Greeter.greet": "greet(loud)",
			"arrow": "const arrow = (a, b) =>", "MAX": "const MAX = 10"},
		refs: []string{"Base", "Greeter", "helper", "toUpperCase"},
	},
	"typescript": {
		syms: []string{"const MAX 1-1", "interface Shape 2-2", "method Shape.area 2-2", "type Alias 3-3", "enum Color 4-4",
			"class Greeter 5-10", "method Greeter.constructor 7-7", "method Greeter.greet 8-8", "method Greeter.area 9-9",
			"func helper 11-11", "func arrow 12-12", "func ext 13-13", "module NS 14-14", "func f 14-14", "var v 15-15"},
		sigs: map[string]string{"Greeter": "abstract class Greeter<T> extends Base implements Shape",
			"Greeter.greet": "greet(loud: boolean): string", "helper": "function helper(x: string): string",
			"ext": "function ext(a: number): void"},
		refs: []string{"Base", "Greeter", "Shape", "helper", "toUpperCase"},
	},
	"tsx": {
		syms: []string{"const LIMIT 2-2", "interface Props 3-3", "func Hello 4-6", "class Widget 7-9",
			"method Widget.render 8-8", "func Arrow 10-10"},
		sigs: map[string]string{"Hello": "function Hello({ name }: Props): JSX.Element"},
		refs: []string{"Component", "Hello", "Props", "format", "handle"},
	},
	"rust": {
		syms: []string{"const MAX 2-2", "var COUNTER 3-3", "struct Point 4-4", "enum Shape 5-5", "trait Area 6-6",
			"method Area.area 6-6", "method Area.name 6-6", "type Alias 7-7", "impl Point 8-11", "method Point.new 9-9",
			"method Point.get 10-10", "impl Shape 12-14", "method Shape.fmt 13-13", "func helper 15-15",
			"macro square 16-16", "module inner 17-17", "func f 17-17", "struct U 18-18"},
		sigs: map[string]string{"Point": "pub struct Point<T>", "Point.new": "pub fn new(x: T, y: T) -> Self",
			"Shape.fmt": "fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result", "square": "macro_rules! square",
			"helper": "pub fn helper(v: &Point<i32>) -> i32"},
		refs: []string{"Circle", "Point", "Shape", "compute", "get", "write"},
	},
	"java": {
		syms: []string{"class Greeter 3-13", "const MAX 4-4", "method Greeter.Greeter 6-6", "method Greeter.greet 7-7",
			"method Greeter.helper 8-8", "interface Inner 9-9", "method Inner.run 9-9", "enum Color 10-10",
			"class Pair 11-11", "method Greeter.run 12-12"},
		sigs: map[string]string{"Greeter": "public class Greeter extends Base implements Runnable",
			"Greeter.greet": "public String greet(boolean loud)", "MAX": "public static final int MAX = 10"},
		refs: []string{"ArrayList", "Base", "Runnable", "helper", "toUpperCase"},
	},
	"c": {
		syms: []string{"const MAX 2-2", "macro SQUARE 3-3", "const LIMIT 4-4", "struct point 5-5", "type point_t 6-6",
			"type anon_t 7-7", "enum color 8-8", "struct u 9-9", "func make 11-11", "func helper 12-12", "func main 13-13"},
		sigs: map[string]string{"make": "static int *make(int n)", "MAX": "#define MAX 10", "point": "struct point"},
		refs: []string{"SQUARE", "compute", "helper", "malloc", "point_t", "printf"},
	},
	"cpp": {
		syms: []string{"const MAX 2-2", "module demo 3-23", "const LIMIT 4-4", "const kSize 5-5", "class Greeter 6-15",
			"method Greeter.~Greeter 9-9", "method Greeter.area 11-11", "method Greeter.inline_method 12-12",
			"struct Point 16-16", "enum Color 17-17", "type Alias 18-18", "func maxOf 19-19",
			"method Greeter.Greeter 20-20", "method Greeter.greet 21-21", "func helper 22-22"},
		sigs: map[string]string{"Greeter": "class Greeter : public Base", "Greeter.greet": "std::string Greeter::greet(bool loud) const",
			"namespace": "", "demo": "namespace demo"},
		refs: []string{"Base", "Point", "compute", "helper", "string"},
	},
	"ruby": {
		syms: []string{"const MAX 2-2", "module Demo 3-17", "class Greeter 4-16", "const LIMIT 5-5",
			"method Greeter.initialize 7-9", "method Greeter.greet 10-12", "method Greeter.make 13-15", "func helper 18-20"},
		sigs: map[string]string{"Greeter": "class Greeter < Base", "Greeter.greet": "def greet(loud = false)",
			"Greeter.make": "def self.make"},
		refs: []string{"Base", "Greeter", "helper", "new", "puts", "upcase"},
	},
	"bash": {
		syms: []string{"const MAX 2-2", "var COUNT 3-3", "func greet 4-8", "func helper 9-11"},
		sigs: map[string]string{"greet": "greet()", "helper": "function helper", "MAX": "readonly MAX=10"},
		refs: []string{"echo", "greet", "helper", "printf", "tr"},
	},
	"php": {
		syms: []string{"module Demo 2-2", "const MAX 4-4", "interface Shape 5-5", "method Shape.area 5-5", "trait Named 6-6",
			"method Named.name 6-6", "class Greeter 7-14", "const LIMIT 8-8", "method Greeter.__construct 10-10",
			"method Greeter.greet 11-11", "method Greeter.make 12-12", "method Greeter.area 13-13", "func helper 15-15", "enum Suit 16-16"},
		sigs: map[string]string{"Greeter": "class Greeter extends Base implements Shape",
			"Greeter.greet": "public function greet(bool $loud = false): string", "helper": "function helper(string $x): string"},
		refs: []string{"Base", "Greeter", "helper", "strtoupper"},
	},
	"csharp": {
		syms: []string{"module Demo 2-16", "interface IShape 3-3", "method IShape.Area 3-3", "enum Color 4-4", "struct Point 5-5",
			"class Pair 6-6", "class Greeter 7-15", "const Max 8-8", "method Greeter.Greeter 10-10", "method Greeter.Greet 11-11",
			"method Greeter.Area 12-12", "method Greeter.Helper 14-14"},
		sigs: map[string]string{"Greeter": "public class Greeter : Base, IShape", "Greeter.Greet": "public string Greet(bool loud)",
			"Greeter.Area": "public double Area()"},
		refs: []string{"Base", "Greeter", "Helper", "IShape", "ToUpper"},
	},
	"kotlin": {
		syms: []string{"const MAX 3-3", "var counter 4-4", "interface Shape 5-5", "method Shape.area 5-5", "enum Color 6-6",
			"class Pair 7-7", "class Registry 8-8", "method Registry.register 8-8", "type Alias 9-9", "class Greeter 10-14",
			"const LIMIT 11-11", "method Greeter.greet 12-12", "method Greeter.area 13-13", "func helper 15-15"},
		sigs: map[string]string{"Greeter": "class Greeter(private val name: String) : Base(), Shape",
			"Greeter.area": "override fun area(): Double", "helper": "fun helper(x: String): String"},
		refs: []string{"Base", "Greeter", "Shape", "helper", "uppercase"},
	},
	"lua": {
		syms: []string{"var M 1-1", "const MAX 2-2", "func helper 3-3", "method M.greet 4-4", "method M.method 5-5",
			"func global_fn 6-6", "func f 7-7"},
		sigs: map[string]string{"helper": "local function helper(x)", "M.method": "function M:method(a)"},
		refs: []string{"helper", "other", "print"},
	},
	"scala": {
		syms: []string{"trait Shape 3-3", "method Shape.area 3-3", "class Registry 4-4", "const Max 4-4",
			"method Registry.register 4-4", "class Pair 5-5", "class Greeter 6-10", "method Greeter.greet 8-8",
			"method Greeter.area 9-9", "enum Color 11-11", "type Alias 12-12", "func helper 13-13"},
		sigs: map[string]string{"Greeter": "class Greeter(name: String) extends Base with Shape",
			"Greeter.greet": "def greet(loud: Boolean): String"},
		refs: []string{"Base", "Greeter", "Shape", "helper"},
	},
}

func symLine(s ingest.Symbol) string {
	return fmt.Sprintf("%s %s %d-%d", s.Kind, s.Name, s.StartLine, s.EndLine)
}

// TestQueriesCompile compiles every language's query against its grammar
// and checks that it only uses the capture names extract understands.
func TestQueriesCompile(t *testing.T) {
	if len(Languages()) < 12 {
		t.Fatalf("Languages() = %v", Languages())
	}
	for _, lang := range Languages() {
		g := grammarFor(lang)
		q, _, err := g.compiled()
		if err != nil {
			t.Errorf("%s: %v", lang, err)
			continue
		}
		for i := uint32(0); i < q.CaptureCount(); i++ {
			name := q.CaptureNameForId(i)
			kind, isDef := strings.CutPrefix(name, "definition.")
			if !isDef {
				kind, isDef = strings.CutPrefix(name, "declaration.")
			}
			switch {
			case isDef:
				if _, ok := kindOf[kind]; !ok {
					t.Errorf("%s: capture @%s: unknown kind", lang, name)
				}
			case name == "name", name == "scope", name == "body", strings.HasPrefix(name, "reference."):
			case name == "mod", name == "mods", name == "q":
				// used by predicates only
			default:
				t.Errorf("%s: capture @%s is not understood", lang, name)
			}
		}
	}
}

// TestQueryFilesUsed checks that every query file belongs to a language.
func TestQueryFilesUsed(t *testing.T) {
	used := map[string]bool{}
	for _, lang := range Languages() {
		for _, f := range grammarFor(lang).queries {
			used[f] = true
		}
	}
	files, err := fs.Glob(queryFS, "queries/*.scm")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !used[strings.TrimPrefix(f, "queries/")] {
			t.Errorf("%s is used by no language", f)
		}
	}
}

func TestParseLanguages(t *testing.T) {
	for _, lang := range Languages() {
		t.Run(lang, func(t *testing.T) {
			src, ok := syntaxSamples[lang]
			want, ok2 := syntaxWants[lang]
			if !ok || !ok2 {
				t.Fatalf("no sample for %s", lang)
			}
			p, err := Parse(lang, []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range p.Symbols {
				got = append(got, symLine(s))
				if s.Signature == "" || strings.Contains(s.Signature, "\n") {
					t.Errorf("%s: bad signature %q", s.Name, s.Signature)
				}
			}
			if !slices.Equal(got, want.syms) {
				t.Errorf("symbols:\n got %q\nwant %q", got, want.syms)
			}
			for name, sig := range want.sigs {
				if sig == "" {
					continue
				}
				i := slices.IndexFunc(p.Symbols, func(s ingest.Symbol) bool { return s.Name == name })
				if i < 0 {
					t.Errorf("no symbol %s", name)
				} else if p.Symbols[i].Signature != sig {
					t.Errorf("%s: signature %q, want %q", name, p.Symbols[i].Signature, sig)
				}
			}
			if !sort.StringsAreSorted(p.Refs) || len(slices.Compact(slices.Clone(p.Refs))) != len(p.Refs) {
				t.Errorf("refs not sorted and unique: %q", p.Refs)
			}
			for _, r := range want.refs {
				if !slices.Contains(p.Refs, r) {
					t.Errorf("refs lack %q: %q", r, p.Refs)
				}
			}
		})
	}
}

func TestParseUnsupported(t *testing.T) {
	for _, lang := range []string{"markdown", "text", "", "yaml", "shell"} {
		p, err := Parse(lang, []byte("# hello\nfunc x() {}\n"))
		if err != nil || len(p.Symbols) != 0 || len(p.Refs) != 0 {
			t.Errorf("Parse(%q) = %+v, %v; want empty, nil", lang, p, err)
		}
	}
}

func TestParseCHeaderPrototypes(t *testing.T) {
	src := "#ifndef X_H\n#define X_H\nint helper(int x);\nchar *name(void);\nint helper(int);\nstatic const int N = 3;\n#endif\n"
	p, err := Parse("c", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Symbols {
		got = append(got, symLine(s))
	}
	want := []string{"const X_H 2-2", "func helper 3-3", "func name 4-4", "const N 6-6"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDetectLangParsers(t *testing.T) {
	for path, want := range map[string]string{
		"a.tsx": "tsx", "a.ts": "typescript", "a.jsx": "javascript", "a.cc": "cpp", "a.hpp": "cpp",
		"a.c": "c", "a.h": "c", "a.php": "php", "run.sh": "bash", "x.bash": "bash", "a.kt": "kotlin",
		"a.scala": "scala", "Rakefile": "ruby", "a.cs": "csharp", "a.lua": "lua", "a.rs": "rust",
	} {
		if got := DetectLang(path); got != want {
			t.Errorf("DetectLang(%q) = %q, want %q", path, got, want)
		} else if grammarFor(got) == nil {
			t.Errorf("%s: no grammar for %q", path, got)
		}
	}
}

// TestParseBroken feeds every grammar random bytes, truncated samples and
// deep nesting: nothing may panic, fail with an error or give a malformed
// symbol.
func TestParseBroken(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []byte("{}()[]<>;:,.=\"'` \n\tabcXYZ_019#/*\\$@!?&|-+")
	for _, lang := range Languages() {
		sample := []byte(syntaxSamples[lang])
		inputs := [][]byte{nil, {}, []byte("\x00"), []byte("\xff\xfe\xfd"), bytes.Repeat([]byte("("), 5000),
			bytes.Repeat([]byte("{"), 5000), bytes.Repeat([]byte("class def fn func "), 500)}
		for i := 0; i < 20; i++ {
			b := make([]byte, rng.Intn(400))
			for j := range b {
				if rng.Intn(4) == 0 {
					b[j] = byte(rng.Intn(256))
				} else {
					b[j] = alphabet[rng.Intn(len(alphabet))]
				}
			}
			inputs = append(inputs, b)
		}
		for cut := 0; cut < len(sample); cut += 1 + len(sample)/25 {
			inputs = append(inputs, sample[:cut], sample[cut:])
		}
		// A sample with a byte flipped here and there.
		for i := 0; i < 10; i++ {
			b := slices.Clone(sample)
			for k := 0; k < 5; k++ {
				b[rng.Intn(len(b))] = alphabet[rng.Intn(len(alphabet))]
			}
			inputs = append(inputs, b)
		}
		for _, in := range inputs {
			p, err := Parse(lang, in)
			if err != nil {
				t.Errorf("%s: Parse(%.30q): %v", lang, in, err)
			}
			nlines := bytes.Count(in, []byte("\n")) + 1
			for _, s := range p.Symbols {
				if s.Name == "" || s.Kind == "" || s.StartLine < 1 || s.EndLine < s.StartLine || s.EndLine > nlines {
					t.Errorf("%s: Parse(%.30q): bad symbol %+v", lang, in, s)
				}
			}
			for _, r := range p.Refs {
				if !validRef(r) {
					t.Errorf("%s: Parse(%.30q): bad ref %q", lang, in, r)
				}
			}
		}
	}
}

// TestParseConcurrent parses every language from several goroutines at once
// (run with -race): pooled parsers and shared queries must not mix.
func TestParseConcurrent(t *testing.T) {
	want := map[string]int{}
	for _, lang := range Languages() {
		p, _ := Parse(lang, []byte(syntaxSamples[lang]))
		want[lang] = len(p.Symbols)
	}
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		go func() {
			var err error
			for i := 0; i < 5 && err == nil; i++ {
				for _, lang := range Languages() {
					p, e := Parse(lang, []byte(syntaxSamples[lang]))
					if e != nil || len(p.Symbols) != want[lang] {
						err = fmt.Errorf("%s: %d symbols, %v", lang, len(p.Symbols), e)
						break
					}
				}
			}
			errs <- err
		}()
	}
	for w := 0; w < 8; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestParseGoMatchesParse(t *testing.T) {
	syms, err := ParseGo([]byte(goSample))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse("go", []byte(goSample))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(syms, p.Symbols) {
		t.Errorf("ParseGo and Parse differ")
	}
	for _, r := range []string{"Kind", "Server", "Pair", "Context"} {
		if !slices.Contains(p.Refs, r) {
			t.Errorf("refs lack %q: %q", r, p.Refs)
		}
	}
}

func TestSkeleton(t *testing.T) {
	f := &ingest.File{Path: "demo.go", Lang: "go", Content: []byte(goSample)}
	f.Symbols, _ = ParseGo(f.Content)
	got := Skeleton(f)
	want := `L10: const Answer = 42
L13: const KindA Kind = iota
L14: const KindB
L19: var ErrX, ErrY = io.EOF, io.ErrUnexpectedEOF
L19: var ErrX, ErrY = io.EOF, io.ErrUnexpectedEOF
L20: var table = map[string]int{ …
L25: var single int
L27: type Kind int
L30: type Alias = string
L31: type Pair[K comparable, V any] struct
L38: type Server struct
L42: type Asker interface
L46: func New(name string) *Server
L48: func (s *Server) Ask(ctx context.Context) error
L52: func (p Pair[K, V]) Swap() Pair[K, V]
L54: func Map[T, U any](xs []T, f func(T) U) []U
L60: func init()
`
	if got != want {
		t.Errorf("Go skeleton:\n%s\nwant:\n%s", got, want)
	}
	if again := Skeleton(f); again != got {
		t.Errorf("Skeleton is not deterministic")
	}

	py := &ingest.File{Path: "a.py", Lang: "python", Content: []byte(syntaxSamples["python"])}
	p, _ := Parse("python", py.Content)
	py.Symbols = p.Symbols
	got = Skeleton(py)
	want = `L2: MAX_SIZE = 10
L3: counter = 0
L5: class Greeter(Base)
  L7: LIMIT: int = 3
  L9: def __init__(self, name: str) -> None
  L13: def greet(self, loud=False) -> str
L16: async def helper(x)
L19: def outer()
  L20: def inner()
`
	if got != want {
		t.Errorf("Python skeleton:\n%s\nwant:\n%s", got, want)
	}

	// Members on the same line as their container nest by name.
	rs := &ingest.File{Lang: "rust", Content: []byte(syntaxSamples["rust"])}
	p, _ = Parse("rust", rs.Content)
	rs.Symbols = p.Symbols
	if got := Skeleton(rs); !strings.Contains(got, "L6: pub trait Area\n  L6: fn area(&self) -> f64\n  L6: fn name(&self) -> String\nL7:") {
		t.Errorf("Rust skeleton:\n%s", got)
	}
	if Skeleton(&ingest.File{Lang: "text", Content: []byte("hello")}) != "" || Skeleton(nil) != "" {
		t.Errorf("a file without symbols has a skeleton")
	}
}

// TestParseCacheVersion pins a hash of the query files: a changed query must
// come with a new parseCacheVersion, or caches keep stale results.
func TestParseCacheVersion(t *testing.T) {
	files, _ := fs.Glob(queryFS, "queries/*.scm")
	h := sha256.New()
	for _, f := range files {
		b, _ := queryFS.ReadFile(f)
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	got := hex.EncodeToString(h.Sum(nil))[:16]
	const version, hash = 1, "e9bb0f30626a36df"
	if parseCacheVersion != version || got != hash {
		t.Errorf("queries hash %s at parseCacheVersion %d; pinned %s at %d: when the queries change, bump parseCacheVersion and update this test",
			got, parseCacheVersion, hash, version)
	}
	if k := ParseCacheKey("go", "abc"); k != "parse/v1/go/abc" {
		t.Errorf("ParseCacheKey = %q", k)
	}
}
