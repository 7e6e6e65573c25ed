package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"lore/config"
	"lore/engine"
	"lore/internal/cmdline"
)

// version is lore's version, set at link time by the Makefile
// (-ldflags "-X lore/cli.version=$(git describe)"); without it the build
// information's VCS revision stands in.
var version = ""

// Version is lore's version: the linked-in one, else the module version or
// the VCS revision the binary was built from, else "devel".
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore version", `Usage: lore version

Prints lore's version, the Go version it was built with, and the llama.cpp
libraries it loads (the folder found as the daemon finds it: llama_lib,
LORE_LLAMA_LIB, third_party/llama beside the binary, ...).
`, stdout)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cmdline.UsageErr("unexpected arguments %q", fs.Args())
	}
	fmt.Fprint(stdout, versionText())
	return nil
}

// versionText is what lore version and lore --version print: lore's
// version and the llama.cpp build it loads.
func versionText() string {
	text := fmt.Sprintf("lore %s (%s, %s/%s)\n", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	explicit := ""
	if s, err := config.Load(""); err == nil {
		explicit = s.LlamaLib
	}
	dir, err := engine.FindLibrary(explicit)
	if err != nil {
		return text + fmt.Sprintf("llama.cpp  not found (run `make deps`, or set %s)\n", config.EnvLlamaLib)
	}
	return text + fmt.Sprintf("llama.cpp  %s, in %s\n", engine.LibraryVersion(dir), dir)
}
