package cli_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"lore/internal/testenv"
)

// TestScripts runs the command-line scripts in testdata/script against the
// real lore and ask binaries, with the tiny model and a private state and
// runtime folder per script. Every daemon a script starts is stopped when it
// ends.
func TestScripts(t *testing.T) {
	bin := testenv.Binaries(t)
	vars := testenv.Env(t)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			for _, v := range vars {
				k, val, _ := strings.Cut(v, "=")
				if strings.HasPrefix(k, "LORE_") {
					env.Setenv(k, val)
				}
			}
			// Socket paths are limited to 108 bytes: the runtime folder
			// stays short, outside the script's work folder.
			run, err := os.MkdirTemp("", "lr-")
			if err != nil {
				return err
			}
			env.Setenv("LORE_RUNTIME_DIR", run)
			// The state stays out of the script's repository, which is
			// its work folder.
			env.Setenv("LORE_STATE_DIR", filepath.Join(run, "state"))
			env.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"} {
				env.Setenv(k, "t")
			}
			for _, k := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"} {
				env.Setenv(k, "t@t")
			}
			env.Defer(func() {
				stop := exec.Command(filepath.Join(bin, "lore"), "stop", "--all")
				stop.Env = env.Vars
				stop.Run()
				os.RemoveAll(run)
			})
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonobject": jsonObject,
			"jsonlines":  jsonLines,
		},
	})
}

// jsonObject checks that a file (stdout or stderr of the last command, or a
// file) is exactly one JSON object, holding the given keys.
//
//	jsonobject stdout text ttft_ms
func jsonObject(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: jsonobject FILE [KEY...]")
	}
	data := ts.ReadFile(args[0])
	dec := json.NewDecoder(strings.NewReader(data))
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		ts.Fatalf("%s is not a JSON object: %v\n%s", args[0], err, data)
	}
	if dec.More() {
		ts.Fatalf("%s holds more than one JSON value:\n%s", args[0], data)
	}
	for _, k := range args[1:] {
		if _, ok := obj[k]; !ok {
			ts.Fatalf("%s lacks %q: %s", args[0], k, data)
		}
	}
}

// jsonLines checks that every line of a file is a JSON object and that the
// values of their "type" keys, run together, match the given sequence, where
// TYPE+, TYPE* and TYPE? stand for one or more, any number, or at most one
// line of that type.
//
//	jsonlines stdout progress* token+ result
func jsonLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: jsonlines FILE [TYPE[+]...]")
	}
	var types []string
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[0])))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			ts.Fatalf("line %q is not a JSON object: %v", sc.Text(), err)
		}
		types = append(types, fmt.Sprint(ev["type"]))
	}
	var pat strings.Builder
	for _, want := range args[1:] {
		name := strings.TrimRight(want, "+*?")
		fmt.Fprintf(&pat, "(%s )%s", regexp.QuoteMeta(name), want[len(name):])
	}
	if !regexp.MustCompile("^" + pat.String() + "$").MatchString(strings.Join(types, " ") + " ") {
		ts.Fatalf("event types %v: want %v", types, args[1:])
	}
}
