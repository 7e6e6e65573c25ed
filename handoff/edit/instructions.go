package edit

import "strings"

// Instructions is the part of the system prompt that teaches the model an
// edit format, with an example. The text is stable (no dates, no paths
// of this machine), so a provider's prompt cache keeps it.
func Instructions(format Format) string {
	if format == FormatWhole {
		return wholeInstructions
	}
	return diffInstructions
}

const diffInstructions = `# How to answer with edits

Answer with SEARCH/REPLACE blocks. Each block edits one file:

1. The file's path, relative to the repository root, alone on its line.
2. An opening fence: three backticks and the language.
3. The line <<<<<<< SEARCH
4. A contiguous run of lines exactly as they are now in the file, with every space, tab, comment and blank line.
5. The line =======
6. The lines that replace them.
7. The line >>>>>>> REPLACE
8. The closing fence.

Rules:
- SEARCH must match exactly one place in the file. Include enough lines (the whole function signature, a unique comment) to make it unique, and no more than that: keep blocks short.
- Use several small blocks rather than one large one. Blocks of the same file apply in the order you give them, each to the file as the blocks before it left it; do not let two blocks overlap.
- To move code, use one block to delete it and one to insert it.
- To create a file, give its path and a block with an empty SEARCH section; the REPLACE section is the whole new file.
- To delete a file, give its path and a fence holding only the line <<<<<<< DELETE
- Only edit files whose full text you were given, or create new ones. Paths are relative to the repository root; never absolute, never with "..".
- If you leave lines out of a long SEARCH section, replace them with a line holding only ... in SEARCH and at the same point in REPLACE; the lines around each ... must each match exactly one place.

Example: rename a function's parameter in greet/greet.go, create greet/doc.go, delete greet/old.go.

greet/greet.go
` + "```go" + `
<<<<<<< SEARCH
func Hello(name string) string {
	return "Hello, " + name
}
=======
func Hello(who string) string {
	return "Hello, " + who
}
>>>>>>> REPLACE
` + "```" + `

greet/doc.go
` + "```go" + `
<<<<<<< SEARCH
=======
// Package greet says hello.
package greet
>>>>>>> REPLACE
` + "```" + `

greet/old.go
` + "```" + `
<<<<<<< DELETE
` + "```" + `
`

const wholeInstructions = `# How to answer with edits

Answer with the complete new text of every file you change or create:

1. The file's path, relative to the repository root, alone on its line.
2. An opening fence: three backticks and the language (use four backticks when the file itself holds lines starting with three).
3. The whole file, every line of it, as it must be after your change. Never abbreviate with "..." or "rest unchanged": what you send replaces the file.
4. The closing fence.

To delete a file, give its path and a fence holding only the line <<<<<<< DELETE
Paths are relative to the repository root; never absolute, never with "..". Only change files whose full text you were given, or create new ones.

Example: change greet/greet.go and delete greet/old.go.

greet/greet.go
` + "```go" + `
package greet

func Hello(who string) string {
	return "Hello, " + who
}
` + "```" + `

greet/old.go
` + "```" + `
<<<<<<< DELETE
` + "```" + `
`

// Render writes blocks as a model's answer in the format Parse reads:
// SEARCH/REPLACE and DELETE blocks as such, Whole blocks as fenced whole
// files. Tests and benchmarks script answers with it; a repair round may
// quote a block back with it.
func Render(blocks []Block) string {
	var b strings.Builder
	for i, bl := range blocks {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(bl.Path + "\n")
		switch {
		case bl.Delete:
			b.WriteString("```\n<<<<<<< DELETE\n```\n")
		case bl.Whole:
			f := fenceFor(bl.Replace)
			b.WriteString(f + "\n" + endLine(bl.Replace) + f + "\n")
		default:
			b.WriteString("```\n<<<<<<< SEARCH\n" + endLine(bl.Search) + "=======\n" + endLine(bl.Replace) + ">>>>>>> REPLACE\n```\n")
		}
	}
	return b.String()
}

// endLine ends text with a line break: blocks are whole lines.
func endLine(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
