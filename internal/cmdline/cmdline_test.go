package cmdline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
	flag "github.com/spf13/pflag"

	"lore/api"
)

func TestSuggest(t *testing.T) {
	names := []string{"json", "repo", "max-tokens", "temperature", "top-p", "top-k"}
	for word, want := range map[string]string{
		"jsn": "json", "jsno": "json", "rpeo": "repo", "max-token": "max-tokens",
		"temprature": "temperature", "top": "top-p", "zzzzzz": "", "x": "",
	} {
		if got := Suggest(word, names); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", word, got, want)
		}
	}
}

// TestParse holds the parsing rules the command lines share: flags after
// arguments, "--" ending them, one-dash long flags, one-line errors naming
// the closest flag, and help on the writer given for it.
func TestParse(t *testing.T) {
	var help bytes.Buffer
	fs := NewFlagSet("t", "Usage: t [flags] ARGS\n", &help)
	asJSON := fs.Bool("json", false, "json")
	repo := fs.String("repo", "", "repository")
	if err := Parse(fs, []string{"what", "is", "--json", "-repo", "r", "--", "--not-a-flag"}); err != nil {
		t.Fatal(err)
	}
	if !*asJSON || *repo != "r" || fmt.Sprint(fs.Args()) != "[what is --not-a-flag]" {
		t.Errorf("json %v, repo %q, args %q", *asJSON, *repo, fs.Args())
	}

	fs = NewFlagSet("t", "Usage: t\n", io.Discard)
	fs.Bool("json", false, "json")
	err := Parse(fs, []string{"--jsn"})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitUsage || err.Error() != "unknown flag: --jsn (did you mean --json?)" {
		t.Errorf("unknown flag: %v", err)
	}

	fs = NewFlagSet("t", "Usage: t [flags] ARGS\n", &help)
	fs.Bool("json", false, "json")
	if err := Parse(fs, []string{"--help"}); !errors.Is(err, flag.ErrHelp) || !bytes.Contains(help.Bytes(), []byte("Usage: t [flags] ARGS")) {
		t.Errorf("--help: %v, help %q", err, help.String())
	}
}

// TestFinishHidesRPCFrames: a daemon error that reached a client wrapped
// by the JSON-RPC library prints as its message.
func TestFinishHidesRPCFrames(t *testing.T) {
	var out bytes.Buffer
	err := fmt.Errorf("asking: %w", &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: "location: nope.go is left out"})
	if code := Finish("ask", &out, err); code != ExitError || out.String() != "ask: asking: location: nope.go is left out\n" {
		t.Errorf("exit %d, printed %q", code, out.String())
	}
}

func TestThousandsAndSeconds(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 213456: "213,456", -1234567: "-1,234,567"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestProgressPrefilled: what a question waited for is the prefill it saw
// run, not a snapshot restored at once.
func TestProgressPrefilled(t *testing.T) {
	p := NewProgress(io.Discard)
	p.Show(api.Progress{Done: 12313, Total: 12313})
	if got := p.Prefilled(); got != 0 || p.Prefilling() {
		t.Errorf("restored: prefilled %d, prefilling %v", got, p.Prefilling())
	}
	p = NewProgress(io.Discard)
	for _, d := range []int{0, 512, 1024} {
		p.Show(api.Progress{Done: d, Total: 1500})
	}
	if !p.Prefilling() {
		t.Error("a prefill at 1,024 of 1,500 tokens is not reported as running")
	}
	p.Show(api.Progress{Done: 1500, Total: 1500})
	if got := p.Prefilled(); got != 1500 || p.Prefilling() {
		t.Errorf("cold: prefilled %d, prefilling %v", got, p.Prefilling())
	}
}
