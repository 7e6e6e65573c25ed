package cli

import (
	"context"
	"fmt"
	"log/slog"

	"lore/api"
	"lore/config"
	"lore/engine"
	"lore/engine/remote"
	"lore/internal/cmdline"
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

// engineStatus is lore status's lines on the engine: where it runs (when
// not in this process) and what the last question found cached, so that a
// remote server's cache miss is visible.
func engineStatus(st *api.Status, line func(label, format string, a ...any)) {
	n := cmdline.Thousands
	if st.Engine != "" && st.Engine != config.EngineLocal {
		line("engine", "%s", st.Engine)
	}
	if st.LastPromptTokens > 0 {
		line("last prompt", "%s tokens, %s from the cache, %s prefilled", n(int64(st.LastPromptTokens)),
			n(int64(st.LastCachedTokens)), n(int64(st.LastPromptTokens-st.LastCachedTokens)))
	}
}
