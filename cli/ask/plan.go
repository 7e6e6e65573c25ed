package ask

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	flag "github.com/spf13/pflag"

	"lore/api"
	"lore/config"
	"lore/internal/cmdline"
)

type planOptions struct {
	goal, session string
	maxTokens     int
	maxSet        bool // --max-tokens given (else the plan's default length)
	json, edit    bool
}

// planOutput is ask --plan --json's last line.
type planOutput struct {
	*api.PlanResult
	File string `json:"file"`
}

// plan asks the daemon for a plan, saves it as Markdown and optionally
// opens it in the user's editor.
func plan(ctx context.Context, c *api.Client, root string, o planOptions, prog *cmdline.Progress, stdout, stderr io.Writer) error {
	p := api.PlanParams{Goal: o.goal, Session: o.session}
	if o.maxSet {
		p.MaxTokens = o.maxTokens
	}
	// With --json stdout is the one JSON object (the plan's text is in it).
	onText := func(text string) {
		prog.Clear()
		io.WriteString(stdout, text)
	}
	if o.json {
		onText = func(string) {}
	}
	res, err := c.Plan(ctx, p, onText, prog.Show)
	prog.Clear()
	if err != nil {
		return err
	}
	if !o.json && !strings.HasSuffix(res.Text, "\n") {
		fmt.Fprintln(stdout)
	}
	file := config.PlanFile(root, res.Name)
	if err := writePlan(file, res.Markdown); err != nil {
		return err
	}
	if o.json {
		if err := json.NewEncoder(stdout).Encode(planOutput{res, file}); err != nil {
			return err
		}
	} else {
		for _, u := range res.Unknown {
			fmt.Fprintf(stderr, "note: the plan names %s, which is not in the tree (a new file, or a wrong path: fix the plan)\n", u)
		}
		fmt.Fprintf(stderr, "plan saved: %s (session %s, turn %d)\nnext: lore generate --plan %s\n", file, res.Name, res.SessionTurn, res.Name)
	}
	if o.edit {
		return openEditor(ctx, file)
	}
	return nil
}

// writePlan replaces the plan file whole (temp + rename), so an editor
// never sees half of it.
func writePlan(file, text string) error {
	if err := config.MkdirPrivate(filepath.Dir(file)); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".plan-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// openEditor runs $VISUAL or $EDITOR (else vi) on file, on the terminal.
func openEditor(ctx context.Context, file string) error {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", editor+` "$1"`, "editor", file)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("editing the plan with %q: %w (set $EDITOR to your editor)", editor, err)
	}
	return nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
