package edit

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// tree writes files under a new folder and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, text := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// listing is every file under dir with its text (folders as "dir/").
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		if d.Type()&os.ModeSymlink != 0 {
			out[rel] = "(link)"
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// prepare parses and applies an answer against the files under root as
// ReadFiles reads them.
func prepare(t *testing.T, root, answer string) ([]Change, map[string]string) {
	t.Helper()
	blocks, err := Parse(answer, FormatDiff)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, b := range blocks {
		paths = append(paths, b.Path)
	}
	files, hashes, err := ReadFiles(root, paths)
	if err != nil {
		t.Fatal(err)
	}
	res := Apply(blocks, files)
	if len(res.Failures) > 0 {
		t.Fatalf("%+v", res.Failures)
	}
	return res.Changes, hashes
}

const writeAnswer = "a.go\n```\n<<<<<<< SEARCH\npackage a\n=======\npackage a // edited\n>>>>>>> REPLACE\n```\n" +
	"b.go\n```\n<<<<<<< DELETE\n```\n" +
	"new/deep/c.go\n```\n<<<<<<< SEARCH\n=======\npackage c\n>>>>>>> REPLACE\n```\n"

func TestWriteAll(t *testing.T) {
	root := tree(t, map[string]string{"a.go": "package a\n", "b.go": "package b\n", "run.sh": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(root, "a.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	changes, hashes := prepare(t, root, writeAnswer)
	if err := WriteAll(root, changes, hashes); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.go": "package a // edited\n", "new/": "", "new/deep/": "", "new/deep/c.go": "package c\n", "run.sh": "#!/bin/sh\n"}
	if got := listing(t, root); !reflect.DeepEqual(got, want) {
		t.Errorf("after WriteAll: %v\nwant %v", got, want)
	}
	if fi, err := os.Stat(filepath.Join(root, "a.go")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("a.go lost its mode: %v %v", fi.Mode(), err)
	}
}

func TestWriteAllRefuses(t *testing.T) {
	outside := t.TempDir()
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, root string, changes []Change, hashes map[string]string) []Change
		msg    string
	}{
		{"file changed since generation", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			os.WriteFile(filepath.Join(root, "a.go"), []byte("package a\n\nvar X = 1\n"), 0o644)
			return c
		}, "a.go changed on disk since the edits were generated"},
		{"file deleted since generation", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			os.Remove(filepath.Join(root, "b.go"))
			return c
		}, "b.go was deleted"},
		{"file created since generation", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			os.MkdirAll(filepath.Join(root, "new/deep"), 0o755)
			os.WriteFile(filepath.Join(root, "new/deep/c.go"), []byte("mine\n"), 0o644)
			return c
		}, "new/deep/c.go was created"},
		{"no expected hash", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			delete(h, "a.go")
			return c
		}, "no expected hash for a.go"},
		{"change from other text", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			c[0].Old = "package a // other\n"
			return c
		}, "made from other text"},
		{"dot-dot path", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			h["../x.go"] = Absent
			return append(c, Change{Path: "../x.go", New: "x\n"})
		}, "leaves the repository"},
		{"absolute path", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			p := filepath.Join(outside, "x.go")
			h[p] = Absent
			return append(c, Change{Path: p, New: "x\n"})
		}, "is absolute"},
		{"symbolic link folder out of the root", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
				t.Fatal(err)
			}
			h["out/x.go"] = Absent
			return append(c, Change{Path: "out/x.go", New: "x\n"})
		}, "leaves the repository through the symbolic link out"},
		{"symbolic link file", func(t *testing.T, root string, c []Change, h map[string]string) []Change {
			if err := os.Symlink("a.go", filepath.Join(root, "l.go")); err != nil {
				t.Fatal(err)
			}
			h["l.go"] = Hash("package a\n")
			return append(c, Change{Path: "l.go", Old: "package a\n", New: "x\n", Existed: true})
		}, "l.go is a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tree(t, map[string]string{"a.go": "package a\n", "b.go": "package b\n"})
			changes, hashes := prepare(t, root, writeAnswer)
			changes = tc.mutate(t, root, changes, hashes)
			before := listing(t, root)
			err := WriteAll(root, changes, hashes)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("WriteAll: %v, want an error naming %q", err, tc.msg)
			}
			if strings.Contains(tc.msg, "since") || strings.Contains(tc.msg, "was ") {
				if !errors.Is(err, ErrChanged) {
					t.Errorf("%v does not wrap ErrChanged", err)
				}
			}
			if after := listing(t, root); !reflect.DeepEqual(after, before) {
				t.Errorf("WriteAll wrote after refusing:\nbefore %v\nafter  %v", before, after)
			}
			if got := listing(t, outside); len(got) > 0 {
				t.Errorf("WriteAll wrote outside the root: %v", got)
			}
		})
	}
}

// A rename that really fails half-way (a file name longer than the file
// system allows; it fails for root too) undoes the files written before
// it: the modified file gets its text back, the deleted one comes back,
// the new folders go.
func TestWriteAllRollback(t *testing.T) {
	root := tree(t, map[string]string{"a.go": "package a\n", "b.go": "package b\n"})
	changes, hashes := prepare(t, root, writeAnswer)
	long := "z/" + strings.Repeat("n", 300) + ".go"
	changes = append(changes, Change{Path: long, New: "package z\n"})
	hashes[long] = Absent
	before := listing(t, root)
	err := WriteAll(root, changes, hashes)
	if !errors.Is(err, syscall.ENAMETOOLONG) || !strings.Contains(err.Error(), "restored: nothing changed") {
		t.Fatalf("WriteAll: %v, want a name-too-long failure that was rolled back", err)
	}
	if after := listing(t, root); !reflect.DeepEqual(after, before) {
		t.Errorf("after the rollback:\n%v\nwant\n%v", after, before)
	}
}

// A folder the process may not write to fails before any rename: nothing
// is written. Root may write anywhere, so this one runs for other users.
func TestWriteAllReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only folders; TestWriteAllRollback covers a real failure for root")
	}
	root := tree(t, map[string]string{"a.go": "package a\n", "b.go": "package b\n", "ro/r.go": "package r\n"})
	changes, hashes := prepare(t, root, writeAnswer+"ro/r.go\n```\n<<<<<<< SEARCH\npackage r\n=======\npackage r2\n>>>>>>> REPLACE\n```\n")
	ro := filepath.Join(root, "ro")
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	before := listing(t, root)
	err := WriteAll(root, changes, hashes)
	if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("WriteAll: %v, want a permission failure", err)
	}
	if after := listing(t, root); !reflect.DeepEqual(after, before) {
		t.Errorf("after the failure:\n%v\nwant\n%v", after, before)
	}
}

func TestReadFiles(t *testing.T) {
	outside := tree(t, map[string]string{"secret": "s\n"})
	root := tree(t, map[string]string{"a.go": "package a\n"})
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	files, hashes, err := ReadFiles(root, []string{"./a.go", "missing.go"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(files, map[string]string{"a.go": "package a\n"}) ||
		!reflect.DeepEqual(hashes, map[string]string{"a.go": Hash("package a\n"), "missing.go": Absent}) {
		t.Errorf("ReadFiles: %v %v", files, hashes)
	}
	if _, _, err := ReadFiles(root, []string{"out/secret"}); err == nil || !strings.Contains(err.Error(), "symbolic link out") {
		t.Errorf("ReadFiles through a link out of the root: %v", err)
	}
	// Apply refuses the blocks of these, naming the reason.
	files, hashes, err = ReadFiles(root, []string{"../x", "/etc/passwd"})
	if err != nil || len(files) > 0 || len(hashes) > 0 {
		t.Errorf("ReadFiles of paths out of the root: %v %v %v", files, hashes, err)
	}
}

// The whole round trip a hand-off makes: an answer with a block that
// fails, the repair note, the model's second answer with the failed block
// only, and one all-or-nothing write of both rounds.
func TestRepairRoundThenWrite(t *testing.T) {
	root := tree(t, map[string]string{"a.go": "package a\n\nfunc A() int {\n\treturn 1\n}\n", "b.go": "package b\n"})
	first := "a.go\n```go\n<<<<<<< SEARCH\nfunc A() int {\n=======\n// A is one.\nfunc A() int {\n>>>>>>> REPLACE\n```\n\n" +
		"a.go\n```go\n<<<<<<< SEARCH\n\treturn 2\n=======\n\treturn 3\n>>>>>>> REPLACE\n```\n\n" +
		"b.go\n```go\n<<<<<<< DELETE\n```\n"
	blocks, err := Parse(first, FormatDiff)
	if err != nil {
		t.Fatal(err)
	}
	files, hashes, err := ReadFiles(root, []string{"a.go", "b.go"})
	if err != nil {
		t.Fatal(err)
	}
	r1 := Apply(blocks, files)
	note := RepairNote(r1)
	for _, s := range []string{"Blocks 1 and 3 applied", "## Block 2 for path a.go did not apply", "lines 5 to 5"} {
		if !strings.Contains(note, s) {
			t.Fatalf("repair note lacks %q:\n%s", s, note)
		}
	}
	files1 := r1.After(files)
	second, err := Parse("a.go\n```go\n<<<<<<< SEARCH\n\treturn 1\n=======\n\treturn 3\n>>>>>>> REPLACE\n```\n", FormatDiff)
	if err != nil {
		t.Fatal(err)
	}
	r2 := Apply(second, files1)
	if len(r2.Failures) > 0 {
		t.Fatal(r2.Failures)
	}
	changes := ChangesBetween(files, r2.After(files1))
	if err := WriteAll(root, changes, hashes); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.go": "package a\n\n// A is one.\nfunc A() int {\n\treturn 3\n}\n"}
	if got := listing(t, root); !reflect.DeepEqual(got, want) {
		t.Errorf("after both rounds: %v", got)
	}
}
