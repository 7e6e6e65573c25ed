package config

// The engine settings: where prefill and decode run. engine = "local" (the
// default) runs llama.cpp in the daemon's process; engine = "remote" sends
// them to a server named in the [remote] table:
//
//	engine = "remote"
//	[remote]
//	url = "http://gpu-box:8080"
//	api_key_env = "LORE_REMOTE_KEY"   # the variable holding the key, never the key
//	protocol = "llama"                # or "completions", "chat" (OpenAI-compatible)
//
// (TOML cannot hold both a value engine = "remote" and a table
// [engine.remote], so the table is [remote].)

// Engine kinds: the values of the engine setting.
const (
	EngineLocal  = "local"
	EngineRemote = "remote"
)

// EngineKinds are the valid values of engine.
var EngineKinds = []string{EngineLocal, EngineRemote}

// Remote protocols: the values of remote.protocol.
const (
	// ProtocolLlama is llama.cpp's server (llama-server): token arrays to
	// its native /completion endpoint, a slot per repository, slots saved
	// and restored.
	ProtocolLlama = "llama"
	// ProtocolCompletions and ProtocolChat are any OpenAI-compatible
	// server (vLLM, SGLang, hosted APIs): the pack as a stable text prefix
	// to /v1/completions or /v1/chat/completions.
	ProtocolCompletions = "completions"
	ProtocolChat        = "chat"
)

// RemoteProtocols are the valid values of remote.protocol.
var RemoteProtocols = []string{ProtocolLlama, ProtocolCompletions, ProtocolChat}

// Environment variables of the engine settings.
const (
	EnvEngine    = "LORE_ENGINE"     // local or remote
	EnvRemoteURL = "LORE_REMOTE_URL" // the remote engine's base URL
)

// RemoteSettings is the [remote] table: the server a remote engine uses.
type RemoteSettings struct {
	URL       string // remote.url: base URL, e.g. http://127.0.0.1:8080
	APIKeyEnv string // remote.api_key_env: environment variable holding the API key ("" = none)
	Slot      string // remote.slot: the server slot to use ("" = chosen from the repository's path)
	Protocol  string // remote.protocol: llama, completions or chat
	Model     string // remote.model: the model name an OpenAI-compatible server wants ("" = its default)
}

func init() {
	keyDefs = append(keyDefs,
		keyDef{name: "engine", kind: kEnum, choices: EngineKinds, env: EnvEngine, flag: "engine", help: "where the model runs: local (llama.cpp in the daemon) or remote (the server in [remote])", field: func(s *Settings) any { return &s.Engine }},
		keyDef{name: "remote.url", kind: kString, env: EnvRemoteURL, flag: "remote-url", help: "the remote engine's base URL (engine = \"remote\")", field: func(s *Settings) any { return &s.Remote.URL }},
		keyDef{name: "remote.api_key_env", kind: kString, help: "environment variable holding the remote engine's API key (empty: none)", field: func(s *Settings) any { return &s.Remote.APIKeyEnv }},
		keyDef{name: "remote.slot", kind: kString, help: "llama-server slot this repository uses (empty: chosen from the repository's path)", field: func(s *Settings) any { return &s.Remote.Slot }},
		keyDef{name: "remote.protocol", kind: kEnum, choices: RemoteProtocols, help: "llama (llama.cpp's server: tokens, slots saved and restored) or completions, chat (OpenAI-compatible: vLLM, SGLang, hosted)", field: func(s *Settings) any { return &s.Remote.Protocol }},
		keyDef{name: "remote.model", kind: kString, help: "model name sent to an OpenAI-compatible server (empty: its default)", field: func(s *Settings) any { return &s.Remote.Model }},
	)
}

// EnvLlamaServer is the llama-server executable the remote engine's tests
// and `lore bench remote` start (make deps-server builds it).
const EnvLlamaServer = "LORE_LLAMA_SERVER"
