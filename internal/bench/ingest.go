package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"lore/config"
	"lore/internal/cmdline"
)

// ingestRun is one timed packing run of a tool.
type ingestRun struct {
	Tool      string  `json:"tool"`
	Mode      string  `json:"mode"` // cold or warm
	Seconds   float64 `json:"seconds"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

type ingestResult struct {
	Date string      `json:"date"`
	Dir  string      `json:"dir"`
	Runs []ingestRun `json:"runs"`
}

func runIngest(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench ingest", subUsage("ingest"), stdout)
	dir := fs.String("repo", "", "tree to pack (required), e.g. $(go env GOROOT)/src")
	fs.StringVar(dir, "dir", "", "the former name of --repo")
	fs.MarkDeprecated("dir", "use --repo")
	repomix := fs.String("repomix", "", "repomix executable (default: repomix in PATH; skipped when absent)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return cmdline.UsageErr("--repo is required: the tree to pack, e.g. --repo $(go env GOROOT)/src")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "lore-bench-ingest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	res := ingestResult{Date: time.Now().Format("2006-01-02"), Dir: abs}

	// lore: a full pack with symbols; cold with an empty state folder, warm
	// with the parse cache the cold run left.
	env := append(os.Environ(), config.EnvStateDir+"="+filepath.Join(tmp, "state"))
	for _, mode := range []string{"cold", "warm"} {
		fmt.Fprintf(stderr, "lore %s...\n", mode)
		r, err := timeRun(env, exe, "pack", "--repo", abs, "-o", filepath.Join(tmp, "lore.xml"))
		if err != nil {
			return err
		}
		r.Tool, r.Mode = "lore", mode
		res.Runs = append(res.Runs, r)
	}
	bin := *repomix
	if bin == "" {
		bin, _ = exec.LookPath("repomix")
	}
	if bin != "" {
		for _, variant := range []struct{ name, flag string }{{"repomix", ""}, {"repomix --compress", "--compress"}} {
			for _, mode := range []string{"cold", "warm"} {
				fmt.Fprintf(stderr, "%s %s...\n", variant.name, mode)
				a := []string{abs, "-o", filepath.Join(tmp, "repomix.txt"), "--style", "plain", "--quiet"}
				if variant.flag != "" {
					a = append(a, variant.flag)
				}
				r, err := timeRun(os.Environ(), bin, a...)
				if err != nil {
					return err
				}
				r.Tool, r.Mode = variant.name, mode
				res.Runs = append(res.Runs, r)
			}
		}
	} else {
		fmt.Fprintln(stderr, "repomix not found: measuring lore only (install it with npm, or pass --repomix)")
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%s\n%-20s %-5s %10s %12s\n", abs, "tool", "mode", "seconds", "peak RSS MB")
	for _, r := range res.Runs {
		fmt.Fprintf(stdout, "%-20s %-5s %10.2f %12.0f\n", r.Tool, r.Mode, r.Seconds, r.PeakRSSMB)
	}
	return nil
}

// timeRun runs a command and returns its wall time and peak resident memory.
func timeRun(env []string, name string, args ...string) (ingestRun, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, _ := os.CreateTemp("", "lore-bench-out-")
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		return ingestRun{}, fmt.Errorf("%s: %v\n%s", name, err, b)
	}
	r := ingestRun{Seconds: time.Since(start).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSSMB = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return r, nil
}
