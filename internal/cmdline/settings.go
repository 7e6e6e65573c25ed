package cmdline

import (
	flag "github.com/spf13/pflag"

	"lore/config"
)

// RegisterEngineFlags registers the engine settings a command that loads a
// model takes as flags. Their values are read back through Settings: flags
// win over the environment, which wins over the repository's and the user's
// config files.
func RegisterEngineFlags(fs *flag.FlagSet) {
	fs.String("model", "", "GGUF model file (env "+config.EnvModel+"; default: the models folder's default model, see lore model ls)")
	fs.String("llama-lib", "", "folder holding the llama.cpp libraries (env "+config.EnvLlamaLib+")")
	fs.Int("ctx", 0, "context size in tokens; 0 = the model's, capped at 131072 (env "+config.EnvContext+")")
	fs.Int("threads", 0, "CPU threads; 0 = all cores (env "+config.EnvThreads+")")
	fs.Int("gpu-layers", 0, "layers to offload with a GPU build of llama.cpp (env "+config.EnvGPULayers+")")
	fs.Bool("flash-attention", false, "enable flash attention")
	fs.String("kv-cache-type", "f16", "KV cache element type: f16, q8_0 or q4_0 (quantized needs --flash-attention)")
	fs.Bool("moe-cpu-experts", false, "keep MoE expert tensors in CPU memory (with a GPU build)")
	fs.String("memory-limit", "", "memory the weights and KV cache may take, e.g. 24GiB; 0 = the available memory (env "+config.EnvMemoryLimit+")")
	fs.Bool("memory-check", true, "refuse to load a model whose weights and KV cache do not fit the memory limit")
	fs.String("engine", "local", "where the model runs: local or remote (env "+config.EnvEngine+")")
	fs.String("remote-url", "", "the remote engine's base URL (env "+config.EnvRemoteURL+")")
}

// Settings loads the effective configuration for a repository: defaults,
// the user's and the repository's config files, the environment, then the
// flags given on the command line.
func Settings(fs *flag.FlagSet, root string) (*config.Settings, error) {
	s, err := config.Load(root)
	if err != nil {
		return nil, WithCode(ExitUsage, err)
	}
	if err := applySettingFlags(fs, s); err != nil {
		return nil, err
	}
	return s, nil
}

// applySettingFlags copies the flags given on the command line that are
// settings (--model, --ctx, ...; see config.FlagKey) onto s, so that they win
// over files and environment. Flags left at their defaults are not applied.
func applySettingFlags(fs *flag.FlagSet, s *config.Settings) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		if key := config.FlagKey(f.Name); key != "" {
			if e := s.SetFlag(key, f.Value.String()); e != nil {
				err = WithCode(ExitUsage, e)
			}
		}
	})
	return err
}
