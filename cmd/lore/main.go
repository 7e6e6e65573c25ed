// Command lore runs and inspects lore's per-repository daemon; see `lore help`.
package main

import (
	"os"

	"lore/cli"
)

func main() { os.Exit(cli.Lore(os.Args[1:], os.Stdout, os.Stderr)) }
