package cmdline

import (
	flag "github.com/spf13/pflag"
	"io"
	"testing"

	"lore/config"
)

func TestApplySettingFlags(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv(config.EnvContext, "4096")
	s, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterEngineFlags(fs)
	fs.String("repo", "", "")
	if err := fs.Parse([]string{"--ctx", "2048", "--flash-attention", "--repo", "x"}); err != nil {
		t.Fatal(err)
	}
	if err := applySettingFlags(fs, s); err != nil {
		t.Fatal(err)
	}
	if s.Context != 2048 || s.Source("context") != "flag --ctx" || !s.FlashAttention || s.Source("flash_attention") != "flag --flash-attention" {
		t.Fatalf("context %d (%s), flash_attention %v (%s)", s.Context, s.Source("context"), s.FlashAttention, s.Source("flash_attention"))
	}
	if s.Source("threads") != config.SourceDefault && s.Source("threads") != "env "+config.EnvThreads {
		t.Fatalf("threads source %q", s.Source("threads"))
	}
}
