package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"lore/api"
	"lore/config"
	"lore/engine"
	"lore/engine/remote"
)

// openEngine is how the daemon opens its engine: nil (the in-process one)
// unless the settings say engine = "remote".
func openEngine(s *config.Settings, root string, log *slog.Logger) func() (engine.Backend, error) {
	if s.Engine != config.EngineRemote {
		return nil
	}
	return func() (engine.Backend, error) {
		cfg, err := remote.SettingsConfig(s, root)
		if err != nil {
			return nil, err
		}
		cfg.Logger = log
		ctx, cancel := context.WithTimeout(context.Background(), remote.DefaultTimeout)
		defer cancel()
		e, err := remote.Open(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
}

// engineLabel names the engine in lore status.
func engineLabel(s *config.Settings) string {
	if s.Engine != config.EngineRemote {
		return config.EngineLocal
	}
	return fmt.Sprintf("remote %s (%s)", s.Remote.URL, s.Remote.Protocol)
}

// printEngineStatus is lore status's lines on the engine: where it runs
// and what the last question found cached.
func printEngineStatus(w io.Writer, st *api.Status) {
	if st.Engine != "" && st.Engine != config.EngineLocal {
		fmt.Fprintf(w, "remote       %s\n", st.Engine)
	}
	if st.LastPromptTokens > 0 {
		fmt.Fprintf(w, "last answer  %d prompt tokens, %d cached, %d prefilled\n", st.LastPromptTokens, st.LastCachedTokens, st.LastPromptTokens-st.LastCachedTokens)
	}
}
