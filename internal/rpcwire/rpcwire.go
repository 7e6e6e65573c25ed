// Package rpcwire holds what lore's two JSON-RPC streams share when they
// answer a message they cannot serve: the daemon's socket (one JSON value
// after another) and the LSP bridge (Content-Length frames) differ in
// framing, not in how a bad message is answered.
package rpcwire

import (
	"bytes"
	"encoding/json"

	"github.com/sourcegraph/jsonrpc2"
)

// IDScanBytes is how much of an oversized message is kept to find its id,
// so that its error reply can carry it.
const IDScanBytes = 64 << 10

// Error is a JSON-RPC error response whose id may be null (a message whose
// id could not be read), which jsonrpc2.Response cannot express.
func Error(id json.RawMessage, code int64, msg string) any {
	if id == nil {
		id = json.RawMessage("null")
	}
	return errorResponse{JSONRPC: "2.0", ID: id, Error: jsonrpc2.Error{Code: code, Message: msg}}
}

type errorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   jsonrpc2.Error  `json:"error"`
}

// ValidID returns raw re-encoded when it is a valid message id (a number or
// a string), or nil.
func ValidID(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var id jsonrpc2.ID
	if json.Unmarshal(raw, &id) != nil {
		return nil
	}
	out, err := json.Marshal(id)
	if err != nil {
		return nil
	}
	return out
}

// ScanID finds the top-level "id" member in the start of a JSON object that
// may be cut off anywhere, and returns it if it is a valid message id.
func ScanID(head []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(head))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil
		}
		if k, _ := key.(string); k == "id" {
			return ValidID(val)
		}
	}
	return nil
}
