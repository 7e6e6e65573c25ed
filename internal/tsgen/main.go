// Command tsgen writes the TypeScript interfaces of lore's LSP wire types
// (the custom requests' parameters and results, and the daemon's api.Status
// that lore/status passes through) for the VS Code extension. It reflects
// over the Go structs and their json tags, so the extension reads the types
// the server really sends; a test fails when the written file is stale.
//
//	go run ./internal/tsgen -o editors/vscode/src/lib/wire.ts
package main

//go:generate go run . -o ../../editors/vscode/src/lib/wire.ts

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "", "write the TypeScript here (default: standard output)")
	flag.Parse()
	src, err := generate()
	if err == nil {
		if *out == "" {
			_, err = os.Stdout.Write(src)
		} else {
			err = os.WriteFile(*out, src, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tsgen:", err)
		os.Exit(1)
	}
}
