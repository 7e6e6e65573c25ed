package remote_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lore/config"
	"lore/engine"
	"lore/engine/remote"
	"lore/internal/testenv"
)

// TestSettingsConfig checks the settings' errors: no URL, an API key
// variable that is not set, a slot that is no number.
func TestSettingsConfig(t *testing.T) {
	s := config.Defaults()
	s.Engine = config.EngineRemote
	if _, err := remote.SettingsConfig(s, "/repo"); err == nil || !strings.Contains(err.Error(), "remote.url") {
		t.Fatalf("no URL: %v", err)
	}
	s.Remote.URL = "http://127.0.0.1:1"
	s.Remote.APIKeyEnv = "LORE_TEST_UNSET_KEY"
	t.Setenv("LORE_TEST_UNSET_KEY", "")
	if _, err := remote.SettingsConfig(s, "/repo"); err == nil || !strings.Contains(err.Error(), "LORE_TEST_UNSET_KEY") {
		t.Fatalf("unset key variable: %v", err)
	}
	t.Setenv("LORE_TEST_UNSET_KEY", "secret")
	s.Remote.Slot = "two"
	if _, err := remote.SettingsConfig(s, "/repo"); err == nil || !strings.Contains(err.Error(), `remote.slot "two"`) {
		t.Fatalf("bad slot: %v", err)
	}
	s.Remote.Slot = "1"
	cfg, err := remote.SettingsConfig(s, "/repo")
	if err != nil || cfg.APIKey != "secret" || cfg.Slot != 1 || cfg.Key != "/repo" || cfg.Protocol != config.ProtocolLlama {
		t.Fatalf("%+v, %v", cfg, err)
	}
}

// TestAPIKey runs llama-server with --api-key: the key from the settings
// goes as a bearer token, and a missing one is refused with the server's
// own message.
func TestAPIKey(t *testing.T) {
	srv := startServerWith(t, "--api-key", "lore-test-key")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := remote.Config{URL: srv.URL, Key: "/repo", Slot: -1, Local: engine.Config{LibDir: testenv.LibDir(t), ModelPath: testenv.TinyModel(t)}}
	if _, err := remote.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("without the key: %v", err)
	}
	cfg.APIKey = "lore-test-key"
	e, err := remote.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Sync(ctx, e.Tokenize("package main\n"), nil); err != nil {
		t.Fatal(err)
	}
}
