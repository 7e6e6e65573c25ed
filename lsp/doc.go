// Package lsp is `lore lsp`: the Language Server Protocol server that an
// editor starts over stdio. It forwards to the repository's daemon through
// package api (starting the daemon when none runs), so every editor and the
// CLI share one daemon and one KV cache.
//
// One file per LSP feature, as gopls does: server.go (session, dispatch,
// lifecycle, the daemon connection), framing.go (LSP's Content-Length
// framing, robust to bad input), initialize.go, text_sync.go (unsaved
// buffers to the daemon), code_action.go, execute_command.go, ask.go
// (lore/ask and the asking commands), progress.go ($/progress), show.go
// (rendered answers), hover.go, status.go (lore/status), position.go
// (URIs, UTF-16 positions). protocol.go holds lore's own additions to the
// protocol; docs/editors.md documents them for editor plugins. client.go is
// a minimal LSP client of this server for tests and `lore bench lsp`.
//
// All questions of an editor share its one daemon connection (which also
// owns its unsaved buffers): a cancelled request makes the typed client send
// ask/cancel, and the daemon stops generating and frees the engine sequence
// at once.
//
// # LSP types
//
// The LSP structures come from github.com/tliron/glsp/protocol_3_16
// (v0.2.2), used for its types only; the transport is
// github.com/sourcegraph/jsonrpc2, which lore already uses for its daemon
// API. Of the packages the module proxy serves, it has the lightest
// dependencies: protocol_3_16 imports only the standard library and glsp's
// three-type root package, so the build gains no third-party code beyond
// glsp's own types. The alternative, go.lsp.dev/protocol v0.12.0, is
// generated and covers 3.17, but its package imports go.uber.org/zap,
// go.lsp.dev/jsonrpc2 (a second JSON-RPC stack) and segmentio/encoding. glsp's server package (which
// pulls in its logging and websocket dependencies) is not used.
//
// One glsp flaw is worked around: IntegerOrString (so ProgressToken and
// CancelParams.ID) has a value-receiver UnmarshalJSON that drops what it
// decodes. Progress tokens are therefore kept as json.RawMessage and
// request ids as jsonrpc2.ID; glsp's types are used only where they decode
// correctly.
package lsp
