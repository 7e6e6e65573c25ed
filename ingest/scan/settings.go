package scan

import "lore/config"

// SettingsOptions is the file-selection part of the settings: what the
// daemon and lore pack scan with, and lore bench localize too, so that the
// benchmark selects the files the daemon would.
func SettingsOptions(s *config.Settings) Options {
	return Options{
		MaxFileSize:      s.MaxFileSize,
		Exclude:          s.Exclude,
		IncludeVendored:  s.IncludeVendored,
		IncludeGenerated: s.IncludeGenerated,
	}
}
