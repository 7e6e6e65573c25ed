// Package lsp will hold `lore lsp`, the Language Server Protocol server that
// editors start over stdio and that forwards to the repository's daemon
// through package api, so editors and the CLI share one daemon and one KV
// cache. Not implemented yet.
package lsp
