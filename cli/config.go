package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"lore/config"
	"lore/internal/cmdline"
)

const configUsage = `Usage: lore config <show|path> [flags]

  show   print every effective setting and where it came from
  path   print the user and repository config files

Settings come from the defaults, then the user file
($XDG_CONFIG_HOME/lore/config.toml or ~/.config/lore/config.toml), then the
repository's .lore/config.toml, then LORE_* environment variables, then flags.
`

func runConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return cmdline.UsageErr("lore config needs a subcommand: show or path")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "show":
		return runConfigShow(rest, stdout, stderr)
	case "path":
		return runConfigPath(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, configUsage)
		return nil
	default:
		fmt.Fprint(stderr, configUsage)
		return cmdline.UsageErr("unknown config subcommand %q", sub)
	}
}

// configShow is the JSON form of `lore config show --json`.
type configShow struct {
	UserFile string         `json:"user_file"`
	RepoFile string         `json:"repo_file"`
	Settings []config.Value `json:"settings"`
}

func runConfigShow(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore config show", `Usage: lore config show [--repo DIR] [--json]

Prints every effective setting, its value as a config file would spell it,
and where it came from: default, user file PATH:LINE, repo file PATH:LINE or
env LORE_X.
`, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	root, err := cmdline.ParseRepo(fs, args, repo)
	if err != nil {
		return err
	}
	s, err := config.Load(root)
	if err != nil {
		return cmdline.WithCode(cmdline.ExitUsage, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(configShow{UserFile: s.UserFile, RepoFile: s.RepoFile, Settings: s.Values()})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, v := range s.Values() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Key, v.Text, v.Source)
	}
	return tw.Flush()
}

func runConfigPath(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore config path", `Usage: lore config path [--repo DIR]

Prints the user config file, then the repository's; either may not exist.
`, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	root, err := cmdline.ParseRepo(fs, args, repo)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user  %s\nrepo  %s\n", config.UserConfigPath(), config.RepoConfigPath(root))
	return nil
}
