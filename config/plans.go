package config

import "path/filepath"

// PlansDir holds a repository's plans (`ask --plan`), one Markdown file
// each, named after its planning session: they are the user's to edit and
// `lore generate --plan NAME` reads them.
func PlansDir(root string) string { return filepath.Join(RepoStateDir(root), "plans") }

// PlanFile is the Markdown file of the plan called name.
func PlanFile(root, name string) string { return filepath.Join(PlansDir(root), name+".md") }
