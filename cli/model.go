package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"lore/config"
	"lore/internal/bytesize"
	"lore/internal/cmdline"
	"lore/models/synth"
)

func runModel(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "pull":
			return runModelPull(args[1:], stdout, stderr)
		case "ls", "list":
			return runModelLs(args[1:], stdout, stderr)
		case "info":
			return runModelInfo(args[1:], stdout, stderr)
		case "rm", "remove":
			return runModelRm(args[1:], stdout, stderr)
		case "use":
			return runModelUse(args[1:], stdout, stderr)
		}
	}
	usage := `Usage: lore model synth [--size tiny|demo|bench] [-o FILE] [--seed N] [--force]

Generates a random-weight Mixture-of-Experts GGUF model (llama architecture,
router + stacked experts, a 262144-token context). Its answers are
meaningless; it exercises every engine code path. Sizes: tiny (~1 MB, tests),
demo (small and fast, realistic vocabulary), bench (~100M parameters).
`
	if len(args) == 0 {
		return cmdline.UsageErr("lore model needs a command: synth, pull, ls, info, use or rm")
	}
	if args[0] != "synth" {
		return cmdline.UsageErr("unknown model command %q", args[0])
	}
	fs := cmdline.NewFlagSet("lore model synth", usage, stdout)
	size := fs.String("size", "demo", "tiny, demo or bench")
	out := fs.StringP("output", "o", "", "output file (default "+config.SynthModelPath()+")")
	seed := fs.Int64("seed", synth.DefaultSeed, "random seed; the same seed gives the same file")
	force := fs.Bool("force", false, "overwrite an existing file")
	if err := cmdline.Parse(fs, args[1:]); err != nil {
		return err
	}
	s, err := synth.ParseSize(*size)
	if err != nil {
		return cmdline.WithCode(cmdline.ExitUsage, err)
	}
	path := *out
	if path == "" {
		path = config.SynthModelPath()
	}
	if _, err := os.Stat(path); err == nil && !*force {
		fmt.Fprintf(stdout, "%s exists; keeping it (use --force to regenerate)\n", path)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := synth.WriteFile(path, s, *seed); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s model to %s (%s)\n", s, path, bytesize.Format(st.Size()))
	return nil
}
