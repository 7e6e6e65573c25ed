package api

import (
	"slices"
	"testing"
)

func TestPlanPaths(t *testing.T) {
	tree := map[string]bool{"cli/lore.go": true, "README.md": true, "config/settings.go": true}
	plan := "# Plan\n\n## Files\n- `cli/lore.go` (change): register the command\n- `cli/generate.go` (create)\n" +
		"- config/settings.go:42, see README.md.\n- e.g. the new flag, https://example.org/x.go\n- `nope/missing.go`\n"
	named, unknown := PlanPaths(plan, func(p string) bool { return tree[p] })
	if want := []string{"cli/lore.go", "config/settings.go", "README.md"}; !slices.Equal(named, want) {
		t.Errorf("named %v, want %v", named, want)
	}
	if want := []string{"cli/generate.go", "nope/missing.go"}; !slices.Equal(unknown, want) {
		t.Errorf("unknown %v, want %v", unknown, want)
	}
}
