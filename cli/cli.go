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

	"lore/config"
	"lore/engine"
	"lore/ingest"
)

// Exit codes shared by lore and ask.
const (
	ExitOK          = 0
	ExitError       = 1   // the command failed; the message says why
	ExitUsage       = 2   // bad flags or arguments
	ExitNotRunning  = 3   // no daemon serves the repository
	ExitRunning     = 4   // a daemon already serves the repository
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

// repoRoot resolves --repo (default: the current directory) to the root of
// its repository.
func repoRoot(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = wd
	}
	return ingest.FindRoot(dir)
}

// engineFlags are the engine settings every command that loads a model takes;
// flags override the environment (see package config).
type engineFlags struct {
	model, lib              string
	ctx, threads, gpuLayers int
	flashAttention          bool
}

func (f *engineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "GGUF model file (env "+config.EnvModel+", default "+config.DefaultModelPath()+")")
	fs.StringVar(&f.lib, "llama-lib", "", "folder holding the llama.cpp libraries (env "+config.EnvLlamaLib+")")
	fs.IntVar(&f.ctx, "ctx", -1, "context size in tokens; 0 = the model's, capped at 131072 (env "+config.EnvContext+")")
	fs.IntVar(&f.threads, "threads", -1, "CPU threads; 0 = all cores (env "+config.EnvThreads+")")
	fs.IntVar(&f.gpuLayers, "gpu-layers", -1, "layers to offload with a GPU build of llama.cpp (env "+config.EnvGPULayers+")")
	fs.BoolVar(&f.flashAttention, "flash-attention", false, "enable flash attention")
}

func (f *engineFlags) config() (engine.Config, error) {
	cfg := engine.Config{
		ModelPath:      config.String(config.EnvModel, config.DefaultModelPath()),
		LibDir:         os.Getenv(config.EnvLlamaLib),
		FlashAttention: f.flashAttention,
	}
	if f.model != "" {
		cfg.ModelPath = f.model
	}
	if f.lib != "" {
		cfg.LibDir = f.lib
	}
	for _, k := range []struct {
		flag int
		env  string
		dst  *int
	}{{f.ctx, config.EnvContext, &cfg.ContextSize}, {f.threads, config.EnvThreads, &cfg.Threads}, {f.gpuLayers, config.EnvGPULayers, &cfg.GPULayers}} {
		if k.flag >= 0 {
			*k.dst = k.flag
			continue
		}
		v, err := config.Int(k.env, 0)
		if err != nil {
			return cfg, withCode(ExitUsage, err)
		}
		*k.dst = v
	}
	return cfg, nil
}
