package models

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"lore/config"
)

// Default is the path of the model lore uses when no setting names one
// (config.DefaultModelPath: the model pulled last, else default.gguf, else
// the only model in the folder).
func Default() string { return config.DefaultModelPath() }

// SetDefault makes the file name in the models folder dir the default model
// by writing the folder's marker (config.DefaultModelMarker).
func SetDefault(dir, name string) error {
	if name != filepath.Base(name) || !strings.EqualFold(filepath.Ext(name), ".gguf") {
		return fmt.Errorf("%q is not a GGUF file name in the models folder", name)
	}
	if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("no model %s in %s (lore model ls lists them)", name, dir)
	}
	marker := filepath.Join(dir, config.DefaultModelMarker)
	tmp := marker + ".tmp"
	if err := os.WriteFile(tmp, []byte(name+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, marker)
}

// DefaultName is the file name the marker of the models folder dir names,
// or "" when there is none.
func DefaultName(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, config.DefaultModelMarker))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Remove deletes the model file name from the models folder dir, with a
// partial download of it, and the default marker when it named the file.
// It returns the paths it deleted.
func Remove(dir, name string) ([]string, error) {
	if name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("%q is not a file name: lore model rm takes a name that lore model ls lists", name)
	}
	if !strings.EqualFold(filepath.Ext(name), ".gguf") {
		name += ".gguf"
	}
	var removed []string
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, name+PartialSuffix)} {
		err := os.Remove(p)
		if err == nil {
			removed = append(removed, p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return removed, err
		}
	}
	if len(removed) == 0 {
		return nil, fmt.Errorf("no model %s in %s (lore model ls lists them)", name, dir)
	}
	if DefaultName(dir) == name {
		if err := os.Remove(filepath.Join(dir, config.DefaultModelMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, err
		}
	}
	return removed, nil
}
