// Command ask asks the repository's lore daemon a question; see `ask --help`.
package main

import (
	"os"

	"lore/cli/ask"
)

func main() { os.Exit(ask.Main(os.Args[1:], os.Stdout, os.Stderr)) }
