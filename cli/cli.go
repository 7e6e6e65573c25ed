// Package cli implements the lore command line. Everything here talks to the
// daemon through package api, like any other client; the ask command line is
// package cli/ask, and the benchmarks are internal/bench.
package cli

import (
	"lore/config"
	"lore/ingest/scan"
)

// scanOptions is the file-selection part of the settings.
func scanOptions(s *config.Settings) scan.Options { return scan.SettingsOptions(s) }
