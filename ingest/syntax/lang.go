package syntax

import (
	"path"
	"strings"
)

// langByExt maps a lower-case file extension (with the dot) to a language
// name. Unknown extensions are "text". Later issues grow this table together
// with the tree-sitter grammars.
var langByExt = map[string]string{
	".go":       "go",
	".mod":      "go.mod",
	".sum":      "go.sum",
	".md":       "markdown",
	".markdown": "markdown",
	".txt":      "text",
	".rst":      "rst",
	".py":       "python",
	".pyi":      "python",
	".js":       "javascript",
	".mjs":      "javascript",
	".cjs":      "javascript",
	".jsx":      "javascript",
	".ts":       "typescript",
	".mts":      "typescript",
	".cts":      "typescript",
	".tsx":      "tsx",
	".rs":       "rust",
	".c":        "c",
	".h":        "c",
	".cc":       "cpp",
	".cpp":      "cpp",
	".cxx":      "cpp",
	".hh":       "cpp",
	".hpp":      "cpp",
	".hxx":      "cpp",
	".ipp":      "cpp",
	".java":     "java",
	".kt":       "kotlin",
	".kts":      "kotlin",
	".scala":    "scala",
	".sc":       "scala",
	".rb":       "ruby",
	".rake":     "ruby",
	".gemspec":  "ruby",
	".php":      "php",
	".cs":       "csharp",
	".swift":    "swift",
	".lua":      "lua",
	".sh":       "bash",
	".bash":     "bash",
	".zsh":      "shell",
	".ps1":      "powershell",
	".html":     "html",
	".htm":      "html",
	".css":      "css",
	".scss":     "scss",
	".json":     "json",
	".yaml":     "yaml",
	".yml":      "yaml",
	".toml":     "toml",
	".xml":      "xml",
	".sql":      "sql",
	".proto":    "protobuf",
	".s":        "asm",
	".vim":      "vim",
	".el":       "elisp",
	".ex":       "elixir",
	".exs":      "elixir",
	".zig":      "zig",
	".tf":       "terraform",
	".nix":      "nix",
	".cmake":    "cmake",
	".mk":       "makefile",
	".tmpl":     "template",
	".csv":      "csv",
	".ini":      "ini",
	".cfg":      "ini",
	".conf":     "config",
}

// langByName maps well-known base names without a telling extension.
var langByName = map[string]string{
	"makefile":       "makefile",
	"gnumakefile":    "makefile",
	"dockerfile":     "dockerfile",
	"cmakelists.txt": "cmake",
	"go.mod":         "go.mod",
	"go.sum":         "go.sum",
	"go.work":        "go.work",
	".gitignore":     "gitignore",
	".gitattributes": "gitattributes",
	"rakefile":       "ruby",
	"gemfile":        "ruby",
	".bashrc":        "bash",
	".bash_profile":  "bash",
}

// DetectLang returns the language of a slash-separated path by its base name
// and extension; "text" when unknown.
func DetectLang(p string) string {
	base := strings.ToLower(path.Base(p))
	if l, ok := langByName[base]; ok {
		return l
	}
	if strings.HasPrefix(base, "dockerfile.") || strings.HasSuffix(base, ".dockerfile") {
		return "dockerfile"
	}
	if l, ok := langByExt[path.Ext(base)]; ok {
		return l
	}
	return "text"
}
