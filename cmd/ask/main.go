// Command ask asks the repository's lore daemon a question; see `ask --help`.
package main

import (
	"os"

	"lore/cli"
)

func main() { os.Exit(cli.Ask(os.Args[1:], os.Stdout, os.Stderr)) }
