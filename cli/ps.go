package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"lore/api"
	"lore/config"
	"lore/internal/bytesize"
	"lore/internal/cmdline"
)

// psEntry is one running daemon, as lore ps --json prints it.
type psEntry struct {
	Repo        string  `json:"repo"`
	PID         int     `json:"pid"`
	State       string  `json:"state"`
	Model       string  `json:"model"`
	MemoryBytes int64   `json:"memory_bytes"`
	IdleSeconds float64 `json:"idle_seconds"`
	UpSeconds   float64 `json:"uptime_seconds"`
	Socket      string  `json:"socket"`
}

// runningDaemons asks every socket in the user's runtime folder for its
// daemon's status. A socket nothing answers on is a daemon that died
// without cleaning up: it is left out (the next daemon for that repository
// takes the path over).
func runningDaemons(ctx context.Context) ([]psEntry, error) {
	socks, err := filepath.Glob(filepath.Join(config.RuntimeDir(), "*.sock"))
	if err != nil {
		return nil, err
	}
	var out []psEntry
	for _, sock := range socks {
		e, err := daemonAt(ctx, sock)
		if err != nil {
			continue
		}
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Repo < out[j].Repo })
	return out, nil
}

func daemonAt(ctx context.Context, sock string) (*psEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := api.Dial(ctx, sock)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	return &psEntry{Repo: st.Repo, PID: st.PID, State: st.State, Model: st.Model, MemoryBytes: st.MemoryBytes,
		IdleSeconds: st.IdleSeconds, UpSeconds: st.UptimeSeconds, Socket: sock}, nil
}

func runPS(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore ps", `Usage: lore ps [--json]

Lists the lore daemons running for this user (one per repository): the
repository, the model, the resident memory (model and KV cache included),
how long since the last question, and the process. It only asks running
daemons; it starts none. Stop one with 'lore stop --repo DIR', all with
'lore stop --all'.
`, stdout)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cmdline.UsageErr("unexpected arguments %q", fs.Args())
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	list, err := runningDaemons(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []psEntry{}
		}
		return json.NewEncoder(stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, `no lore daemon runs (one starts with the first question: lore ask "...")`)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tMODEL\tMEMORY\tIDLE\tSTATE\tPID")
	for _, e := range list {
		model := e.Model
		if model == "" {
			model = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", tildePath(e.Repo), model, bytesize.Format(e.MemoryBytes),
			humanDuration(time.Duration(e.IdleSeconds*float64(time.Second))), e.State, e.PID)
	}
	return tw.Flush()
}

// stopAll stops every daemon lore ps lists, each saving its snapshot.
func stopAll(wait time.Duration, stdout io.Writer) error {
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	list, err := runningDaemons(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no lore daemon runs")
		return nil
	}
	var errs []error
	for _, e := range list {
		if err := stopAt(ctx, e.Socket, wait); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Repo, err))
			continue
		}
		fmt.Fprintf(stdout, "lore daemon for %s stopped\n", e.Repo)
	}
	return errors.Join(errs...)
}

func stopAt(ctx context.Context, sock string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	c, err := api.Dial(ctx, sock)
	if err != nil {
		return err
	}
	defer c.Close()
	if pid, err := cmdline.StopDaemon(ctx, c); errors.Is(err, cmdline.ErrNoExit) {
		return fmt.Errorf("the daemon (pid %d) did not exit within %s", pid, wait)
	} else if err != nil {
		return err
	}
	return nil
}

// tildePath shortens a path in the home folder to ~/...
func tildePath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return p
	}
	if rel, ok := config.Below(home, p); ok {
		return "~/" + rel
	}
	return p
}

// humanDuration writes d as people read it: 45s, 12m, 3h 5m, 2d 4h.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}
