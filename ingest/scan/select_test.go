package scan

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"

	"lore/ingest/internal/ingesttest"
)

func wantSkipped(t *testing.T, res *Result, want map[string]string) {
	t.Helper()
	got := skippedMap(res)
	for p, r := range want {
		if got[p] != r {
			t.Errorf("skipped %s: got %q, want %q", p, got[p], r)
		}
	}
	if len(got) != len(want) {
		t.Errorf("skipped = %v\n   want %v", res.Skipped, want)
	}
}

func TestLoreIgnore(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, ".loreignore", "*.snap\n/docs/\n# a comment\n\n")
	ingesttest.Write(t, root, "main.go", "package main\n")
	ingesttest.Write(t, root, "docs/guide.md", "tracked, in an excluded folder\n")
	ingesttest.Write(t, root, "ui/a.snap", "tracked, excluded by the root file\n")
	ingesttest.Write(t, root, "ui/.loreignore", "fixtures/\n!keep.snap\nlocal.md\n")
	ingesttest.Write(t, root, "ui/keep.snap", "re-included by the nested file\n")
	ingesttest.Write(t, root, "ui/fixtures/big.json", "{}\n")
	ingesttest.Write(t, root, "build/keep.txt", "tracked in a git-ignored folder\n")
	ingesttest.Write(t, root, "build/.loreignore", "keep.txt\n")
	ingesttest.Commit(t, repo, ".loreignore", "main.go", "docs/guide.md", "ui/a.snap", "ui/.loreignore", "ui/keep.snap",
		"ui/fixtures/big.json", "build/keep.txt", "build/.loreignore")
	ingesttest.Write(t, root, ".gitignore", "build/\n")
	ingesttest.Write(t, root, "docs/new.md", "untracked in an excluded folder\n")
	ingesttest.Write(t, root, "docs/.loreignore", "!new.md\n") // cannot re-include below an excluded folder
	ingesttest.Write(t, root, "ui/local.md", "untracked, excluded by the nested file\n")
	ingesttest.Write(t, root, "local.md", "the nested rule does not apply above its folder\n")
	ingesttest.Write(t, root, "ui/fixtures/x.json", "{}\n")
	ingesttest.Write(t, root, "ui/b.snap", "untracked, excluded by the root file\n")

	res := scan(t, root, Options{})
	wantPaths(t, res, ".gitignore", ".loreignore", "build/.loreignore", "local.md", "main.go", "ui/.loreignore", "ui/keep.snap")
	wantSkipped(t, res, nil) // exclusions are silent, as .gitignore's are

	// Exclude from configuration: the same syntax, from the root, below
	// the .loreignore files in priority.
	res = scan(t, root, Options{Exclude: []string{"*.md", "# comment", "", "!ui/.loreignore", "ui/keep.snap"}})
	wantPaths(t, res, ".gitignore", ".loreignore", "build/.loreignore", "main.go", "ui/.loreignore", "ui/keep.snap")

	// Plain folders honour .loreignore too.
	plain := t.TempDir()
	ingesttest.Write(t, plain, ".loreignore", "gen/\n")
	ingesttest.Write(t, plain, "a.go", "package a\n")
	ingesttest.Write(t, plain, "gen/b.go", "package gen\n")
	ingesttest.Write(t, plain, "sub/.loreignore", "*.txt\n")
	ingesttest.Write(t, plain, "sub/c.txt", "c\n")
	ingesttest.Write(t, plain, "c.txt", "c\n")
	wantPaths(t, scan(t, plain, Options{}), ".loreignore", "a.go", "c.txt", "sub/.loreignore")
}

func TestVendored(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, "main.go", "package main\n")
	ingesttest.Write(t, root, "third_party/lib/x.go", "package lib\n")
	ingesttest.Write(t, root, "third_party/lib/y.go", "package lib\n")
	ingesttest.Write(t, root, "web/vendor/v.js", "x\n")
	ingesttest.Commit(t, repo, "main.go", "third_party/lib/x.go", "third_party/lib/y.go", "web/vendor/v.js")
	ingesttest.Write(t, root, ".gitignore", "node_modules/\n")
	ingesttest.Write(t, root, "node_modules/m/index.js", "ignored by git: silent\n")
	ingesttest.Write(t, root, "vendor/golang.org/x/a.go", "package x\n")
	ingesttest.Write(t, root, "web/vendor/untracked.js", "x\n")
	ingesttest.Write(t, root, ".venv/lib/site.py", "x\n")
	ingesttest.Write(t, root, "ios/Pods/P.swift", "x\n")
	ingesttest.Write(t, root, "src/vendored.go", "package src // a file name, not a folder\n")

	res := scan(t, root, Options{})
	wantPaths(t, res, ".gitignore", "main.go", "src/vendored.go")
	wantSkipped(t, res, map[string]string{
		".venv":       "vendored",
		"ios/Pods":    "vendored",
		"third_party": "vendored (2 tracked files)",
		"vendor":      "vendored",
		"web/vendor":  "vendored (1 tracked file)",
	})
	for _, s := range res.Skipped {
		if !strings.HasPrefix(s.Reason, ReasonVendored) {
			t.Errorf("%s: reason %q", s.Path, s.Reason)
		}
	}

	res = scan(t, root, Options{IncludeVendored: true})
	wantPaths(t, res, ".gitignore", ".venv/lib/site.py", "ios/Pods/P.swift", "main.go", "src/vendored.go",
		"third_party/lib/x.go", "third_party/lib/y.go", "vendor/golang.org/x/a.go", "web/vendor/untracked.js", "web/vendor/v.js")
	wantSkipped(t, res, nil)

	// Outside git the same folders are left out.
	plain := t.TempDir()
	ingesttest.Write(t, plain, "a.go", "package a\n")
	ingesttest.Write(t, plain, "node_modules/m.js", "x\n")
	res = scan(t, plain, Options{})
	wantPaths(t, res, "a.go")
	wantSkipped(t, res, map[string]string{"node_modules": "vendored"})
}

func TestGenerated(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	root, repo := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, "main.go", "package main\n")
	ingesttest.Write(t, root, "api.pb.go", "// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: api.proto\n\npackage api\n")
	ingesttest.Commit(t, repo, "main.go", "api.pb.go")
	ingesttest.Write(t, root, "go.sum", "example.com/m v1.0.0 h1:abc=\n")
	ingesttest.Write(t, root, "web/package-lock.json", "{}\n")
	ingesttest.Write(t, root, "web/yarn.lock", "# yarn\n")
	ingesttest.Write(t, root, "Cargo.lock", "# cargo\n")
	ingesttest.Write(t, root, "web/app.min.js", "var a=1;\n")
	ingesttest.Write(t, root, "web/app.js.map", "{}\n")
	ingesttest.Write(t, root, "web/bundle.js", "var a=1;"+strings.Repeat("a+=1;", 300)+"\n")
	ingesttest.Write(t, root, "web/style.css", "body{margin:0}"+strings.Repeat(".a{color:red}", 100)+"\n")
	ingesttest.Write(t, root, "web/app.js", "// hand-written\nfunction f() {\n  return 1;\n}\n")
	ingesttest.Write(t, root, "schema_pb2.py", "# -*- coding: utf-8 -*-\n# Generated by the protocol buffer compiler.  DO NOT EDIT!\n")
	ingesttest.Write(t, root, "Model.java", "/**\n * @generated\n */\nclass Model {}\n")
	ingesttest.Write(t, root, "thrift.go", "// Autogenerated by Thrift Compiler (0.9.3)\npackage t\n")
	ingesttest.Write(t, root, "gen.go", "package main\n\nconst header = \"// Code generated by gen.go. DO NOT EDIT.\\n\"\n\n"+
		"func main() {\n\tfmt.Println(\"// Code generated by gen.go. DO NOT EDIT.\")\n}\n")
	ingesttest.Write(t, root, "late.go", "package late\n"+strings.Repeat("// padding line\n", 80)+"// Code generated by x. DO NOT EDIT.\n")

	want := map[string]string{
		"api.pb.go":             "generated (marker)",
		"go.sum":                "generated (lock file)",
		"web/package-lock.json": "generated (lock file)",
		"web/yarn.lock":         "generated (lock file)",
		"Cargo.lock":            "generated (lock file)",
		"web/app.min.js":        "generated (minified)",
		"web/app.js.map":        "generated (source map)",
		"web/bundle.js":         "generated (minified)",
		"web/style.css":         "generated (minified)",
		"schema_pb2.py":         "generated (marker)",
		"Model.java":            "generated (marker)",
		"thrift.go":             "generated (marker)",
	}
	res := scan(t, root, Options{})
	wantPaths(t, res, "gen.go", "late.go", "main.go", "web/app.js")
	wantSkipped(t, res, want)

	res = scan(t, root, Options{IncludeGenerated: true})
	if len(res.Files) != len(want)+4 {
		t.Errorf("IncludeGenerated: %d files %q", len(res.Files), paths(res))
	}
	wantSkipped(t, res, nil)
}

func TestGeneratedMarker(t *testing.T) {
	for _, c := range []struct {
		line string
		want bool
	}{
		{"// Code generated by stringer -type=Kind; DO NOT EDIT.", true},
		{"# Code generated by x. DO NOT EDIT.", true},
		{"/* Code generated by cgo. DO NOT EDIT. */", true},
		{"// Generated by the protocol buffer compiler.  DO NOT EDIT!", true},
		{"// THIS FILE IS AUTO-GENERATED. DO NOT MODIFY.", true},
		{"# This file is autogenerated by pip-compile with Python 3.12", true},
		{"# This file is automatically @generated by Cargo.", true},
		{" * @generated", true},
		{"// <auto-generated />", true},
		{"// auto-generated by mkerror.sh", true},
		{"// DO NOT EDIT", true},
		{"This file is generated by 'go generate'. DO NOT EDIT.", true},
		{"// This input extends auto-generated amd64enc.s test suite", false},
		{"// generated with a known working version of go.", false},
		{"\tfmt.Fprintln(&b, \"// Code generated by mkbuiltin.go. DO NOT EDIT.\")", false},
		{"const pre = `// Code generated by go run gen.go; DO NOT EDIT.", false},
		{"// @generatedAt is a field", false},
		{"// DO NOT EDIT this list without updating the docs", false},
		{"zero := ir.NewBasicLit(base.AutogeneratedPos)", false},
		{"", false},
	} {
		if got := isGeneratedMarker(c.line); got != c.want {
			t.Errorf("isGeneratedMarker(%q) = %v, want %v", c.line, got, c.want)
		}
	}
}

func TestScanSecrets(t *testing.T) {
	ingesttest.IsolateGitConfig(t)
	g := newFake(7)
	ghToken := "gh" + "p_" + g.str(36, alnum)
	awsID := "AK" + "IA" + g.str(16, upperAlnum)
	pemKey := g.pemKey("RSA")
	dbPass := g.str(24, alnum)
	cert := "-----BEGIN CERTIFICATE-----\n" + g.str(64, b64) + "\n-----END CERTIFICATE-----\n"
	secrets := []string{ghToken, awsID, pemKey[40:120], dbPass}

	root, repo := ingesttest.InitRepo(t)
	ingesttest.Write(t, root, "main.go", "package main\n")
	ingesttest.Write(t, root, "deploy/ci.go", "package deploy\n\nconst token = \""+ghToken+"\"\n")
	ingesttest.Write(t, root, "certs/server.pem", pemKey)
	ingesttest.Write(t, root, "certs/ca.pem", cert)
	ingesttest.Write(t, root, "id_ed25519.pub", "ssh-ed25519 AAAA me@host\n")
	ingesttest.Write(t, root, "id_ed25519", "not even read\n")
	ingesttest.Commit(t, repo, "main.go", "deploy/ci.go", "certs/server.pem", "certs/ca.pem", "id_ed25519.pub", "id_ed25519")
	ingesttest.Write(t, root, "notes.txt", "aws key "+awsID+"\n")
	ingesttest.Write(t, root, ".env", "DB_PASSWORD="+dbPass+"\n")
	ingesttest.Write(t, root, ".env.example", "DB_PASSWORD=changeme\n")
	ingesttest.Write(t, root, "config/db.ini", "[db]\npassword = "+dbPass+"\n")
	ingesttest.Write(t, root, "keys/store.p12", "\x30\x82\x00\x00binary")
	ingesttest.Write(t, root, "scripts/gen_test.go", "package scripts\n\nvar tok = \""+ghToken+"\"\n") // exact formats count in tests too
	// Secrets win over the options that keep vendored and generated files.
	ingesttest.Write(t, root, "vendor/x/conf.go", "package x\n\nconst token = \""+ghToken+"\"\n")
	ingesttest.Write(t, root, "gen.go", "// Code generated by x. DO NOT EDIT.\npackage main\n\nconst token = \""+ghToken+"\"\n")

	for _, opts := range []Options{{}, {IncludeVendored: true, IncludeGenerated: true}} {
		res := scan(t, root, opts)
		wantPaths(t, res, ".env.example", "certs/ca.pem", "id_ed25519.pub", "main.go")
		want := map[string]string{
			"deploy/ci.go":        "secret: GitHub token",
			"certs/server.pem":    "secret: private key",
			"id_ed25519":          "secret: SSH private key file",
			"notes.txt":           "secret: AWS access key id",
			".env":                "secret: env file",
			"config/db.ini":       "secret: high-entropy value assigned to password",
			"keys/store.p12":      "secret: key file",
			"scripts/gen_test.go": "secret: GitHub token",
			"gen.go":              "secret: GitHub token",
		}
		if opts.IncludeVendored {
			want["vendor/x/conf.go"] = "secret: GitHub token"
		} else {
			want["vendor"] = "vendored"
		}
		wantSkipped(t, res, want)
		for _, s := range res.Skipped {
			for _, sec := range secrets {
				if strings.Contains(s.Reason, sec) {
					t.Errorf("%s: the reason %q holds the secret", s.Path, s.Reason)
				}
			}
		}
		if f := fileByPath(res, "main.go"); f == nil || !f.Tracked {
			t.Errorf("main.go = %+v", f)
		}

		// The pack is made of these files' texts and signatures.
		for _, f := range res.Files {
			for _, sec := range secrets {
				if strings.Contains(string(f.Content), sec) {
					t.Errorf("file %q holds a secret", f.Path)
				}
				for _, sym := range f.Symbols {
					if strings.Contains(sym.Signature, sec) {
						t.Errorf("a signature of %q holds a secret", f.Path)
					}
				}
			}
		}
	}
}

func TestSubmodules(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not available")
	}
	ingesttest.IsolateGitConfig(t)
	base := t.TempDir()
	gitRun := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com",
			"-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	lib := filepath.Join(base, "lib")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(lib, "init", "-q")
	ingesttest.Write(t, lib, "lib.go", "package lib\n")
	gitRun(lib, "add", "lib.go")
	gitRun(lib, "commit", "-q", "-m", "lib")

	root := filepath.Join(base, "main")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(root, "init", "-q")
	ingesttest.Write(t, root, "main.go", "package main\n")
	gitRun(root, "add", "main.go")
	gitRun(root, "submodule", "add", "-q", lib, "deps/lib")
	gitRun(root, "commit", "-q", "-m", "main")
	// A repository inside the tree that is no submodule.
	if _, err := git.PlainInit(filepath.Join(root, "scratch"), false); err != nil {
		t.Fatal(err)
	}
	ingesttest.Write(t, root, "scratch/x.go", "package x\n")

	res := scan(t, root, Options{})
	wantPaths(t, res, ".gitmodules", "main.go")
	wantSkipped(t, res, map[string]string{
		"deps/lib": ReasonSubmodule,
		"scratch":  ReasonNestedGit,
	})

	// Registered in .gitmodules but missing from the index (the index was
	// lost): still a submodule, not a nested repository.
	if err := os.Remove(filepath.Join(root, ".git", "index")); err != nil {
		t.Fatal(err)
	}
	res = scan(t, root, Options{})
	wantPaths(t, res, ".gitmodules", "main.go")
	wantSkipped(t, res, map[string]string{
		"deps/lib": ReasonSubmodule,
		"scratch":  ReasonNestedGit,
	})
}

func TestSkipReason(t *testing.T) {
	root := t.TempDir()
	ingesttest.Write(t, root, "ui/.loreignore", "*.snap\n")
	g := newFake(9)
	tok := "gh" + "p_" + g.str(36, alnum)
	for _, c := range []struct {
		path, content string
		opts          Options
		want          string
	}{
		{"main.go", "package main\n", Options{}, ""},
		{"main.go", "package main\n\nconst t = \"" + tok + "\"\n", Options{}, "secret: GitHub token"},
		{".env", "A=1\n", Options{IncludeGenerated: true, IncludeVendored: true}, "secret: env file"},
		{"ui/a.snap", "x\n", Options{}, ReasonExcluded},
		{"a.snap", "x\n", Options{}, ""},
		{"docs/a.md", "x\n", Options{Exclude: []string{"docs/"}}, ReasonExcluded},
		{"vendor/x/a.go", "package x\n", Options{}, ReasonVendored},
		{"vendor/x/a.go", "package x\n", Options{IncludeVendored: true}, ""},
		{"go.sum", "x\n", Options{}, "generated (lock file)"},
		{"go.sum", "x\n", Options{IncludeGenerated: true}, ""},
		{"a.bin", "a\x00b", Options{}, ReasonBinary},
		{"big.txt", "0123456789", Options{MaxFileSize: 4}, "too large (10 bytes > 4 limit)"},
	} {
		if got := SkipReason(root, c.path, []byte(c.content), c.opts); got != c.want {
			t.Errorf("SkipReason(%s, %+v) = %q, want %q", c.path, c.opts, got, c.want)
		}
	}
}
