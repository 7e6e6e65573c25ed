package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"lore/config"
	"lore/internal/cmdline"
)

const logsUsage = `Usage: lore logs [--repo DIR] [-n LINES] [-f]

Prints the log of the repository's background daemon (the one ask or
'lore daemon --detach' started; a foreground daemon logs to its terminal).
With -f, keeps printing what the daemon writes until interrupted.
`

func runLogs(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore logs", logsUsage, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	lines := fs.IntP("lines", "n", 50, "how many of the last lines to print first (0: all)")
	follow := fs.BoolP("follow", "f", false, "follow the log as it grows")
	root, err := cmdline.ParseRepo(fs, args, repo)
	if err != nil {
		return err
	}
	path := config.LogPath(root)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no daemon log for %s yet (%s): a background daemon writes it when it starts", root, path)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(lastLines(b, *lines)); err != nil {
		return err
	}
	if !*follow {
		return nil
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if _, err := io.Copy(stdout, f); err != nil {
			return err
		}
		// A restarted daemon rotates the log: follow the new file.
		if st, err := os.Stat(path); err == nil {
			if cur, err := f.Stat(); err == nil && !os.SameFile(st, cur) {
				if nf, err := os.Open(path); err == nil {
					f.Close()
					f = nf
				}
			}
		}
	}
}

// lastLines returns the last n lines of b (all of it when n <= 0).
func lastLines(b []byte, n int) []byte {
	if n <= 0 {
		return b
	}
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(b[:end], '\n')
		if j < 0 {
			return b
		}
		end = j
	}
	return b[end+1:]
}
