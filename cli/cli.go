// Package cli implements the lore and ask command lines. The main packages
// only call Lore or Ask; everything here talks to the daemon through package
// api, like any other client.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"lore/api"
	"lore/config"
	"lore/engine"
	"lore/ingest"
	"lore/ingest/scan"
)

// Exit codes shared by lore and ask.
const (
	ExitOK          = 0
	ExitError       = 1   // the command failed; the message says why
	ExitUsage       = 2   // bad flags or arguments
	ExitNotRunning  = 3   // no daemon serves the repository
	ExitRunning     = 4   // a daemon already serves the repository
	ExitBusy        = 5   // the daemon has too much queued work: retry later
	ExitInterrupted = 130 // stopped by Ctrl-C
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code, err} }

func usageErr(format string, a ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, a...))
}

// finish prints err (if any) and returns the exit code.
func finish(prog string, stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "%s: interrupted\n", prog)
		return ExitInterrupted
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeBusy {
		return ExitBusy
	}
	return ExitError
}

// signalContext is cancelled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; a flag error becomes a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return withCode(ExitUsage, err)
	}
	return nil
}

// parseRepo parses the flags of a command that takes no arguments, only
// --repo, and resolves the repository root.
func parseRepo(fs *flag.FlagSet, args []string, repo *string) (string, error) {
	if err := parse(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", usageErr("unexpected arguments %q", fs.Args())
	}
	return ingest.FindRoot(*repo)
}

// engineFlags registers the engine settings a command that loads a model
// takes as flags. Their values are read back through the settings (see
// settings): flags win over the environment, which wins over the repository's
// and the user's config files.
func registerEngineFlags(fs *flag.FlagSet) {
	fs.String("model", "", "GGUF model file (env "+config.EnvModel+", default "+config.DefaultModelPath()+")")
	fs.String("llama-lib", "", "folder holding the llama.cpp libraries (env "+config.EnvLlamaLib+")")
	fs.Int("ctx", 0, "context size in tokens; 0 = the model's, capped at 131072 (env "+config.EnvContext+")")
	fs.Int("threads", 0, "CPU threads; 0 = all cores (env "+config.EnvThreads+")")
	fs.Int("gpu-layers", 0, "layers to offload with a GPU build of llama.cpp (env "+config.EnvGPULayers+")")
	fs.Bool("flash-attention", false, "enable flash attention")
	fs.String("kv-cache-type", "f16", "KV cache element type: f16, q8_0 or q4_0 (quantized needs --flash-attention)")
	fs.Bool("moe-cpu-experts", false, "keep MoE expert tensors in CPU memory (with a GPU build)")
}

// settings loads the effective configuration for a repository: defaults,
// the user's and the repository's config files, the environment, then the
// flags given on the command line.
func settings(fs *flag.FlagSet, root string) (*config.Settings, error) {
	s, err := config.Load(root)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	if err := applySettingFlags(fs, s); err != nil {
		return nil, err
	}
	return s, nil
}

// engineConfig is the engine part of the settings.
func engineConfig(s *config.Settings) engine.Config {
	return engine.Config{
		ModelPath:      s.Model,
		LibDir:         s.LlamaLib,
		ContextSize:    s.Context,
		Threads:        s.Threads,
		GPULayers:      s.GPULayers,
		FlashAttention: s.FlashAttention,
		KVType:         s.KVCacheType,
		MoECPUExperts:  s.MoECPUExperts,
	}
}

// scanOptions is the file-selection part of the settings.
func scanOptions(s *config.Settings) scan.Options {
	return scan.Options{
		MaxFileSize:      s.MaxFileSize,
		Exclude:          s.Exclude,
		IncludeVendored:  s.IncludeVendored,
		IncludeGenerated: s.IncludeGenerated,
	}
}
