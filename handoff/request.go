package handoff

import (
	"fmt"
	"strings"

	"lore/handoff/edit"
)

// systemPrompt is the larger tier's instructions: its role and the edit
// format. It is stable text, so it stays in the provider's cache.
func systemPrompt(format edit.Format) string {
	return "You are the code-writing half of a hand-off. A local model that holds the whole repository wrote a plan; " +
		"you are given the repository's map, the full text of the files the plan needs, and the plan. " +
		"Carry out the plan exactly: write the code, nothing else. Do not explain at length; answer with edit blocks.\n\n" +
		"Some values are replaced by placeholders of the form " + placeholderPrefix + "<hex> (secrets kept on the user's machine). " +
		"Copy a placeholder exactly where the code needs the value; never invent its value.\n\n" +
		edit.Instructions(format)
}

// fence returns a backtick fence longer than any run of backticks in text.
func fence(text string) string {
	longest, run := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// sentFile is a file as the larger tier sees it.
type sentFile struct {
	Path string
	Text string // redacted
}

// withheld is a file the plan names that is not sent.
type withheld struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// filesPart is the cached leading part of the request: the repository map
// and the files, in a stable order.
func filesPart(repoMap string, files []sentFile, held []withheld) string {
	var b strings.Builder
	if repoMap != "" {
		b.WriteString("# Repository map\n\nThe repository's files and their main definitions, most central first.\n\n")
		f := fence(repoMap)
		fmt.Fprintf(&b, "%s\n%s\n%s\n\n", f, strings.TrimRight(repoMap, "\n"), f)
	}
	b.WriteString("# Files\n\nThe full text of the files the plan needs, as they are now.\n")
	for _, sf := range files {
		f := fence(sf.Text)
		fmt.Fprintf(&b, "\n%s\n%s\n%s", sf.Path, f, sf.Text)
		if sf.Text != "" && !strings.HasSuffix(sf.Text, "\n") {
			b.WriteString("\n")
		}
		b.WriteString(f + "\n")
	}
	if len(held) > 0 {
		b.WriteString("\nThese files exist but are withheld (they must not leave the user's machine); do not edit them:\n")
		for _, h := range held {
			fmt.Fprintf(&b, "- %s (%s)\n", h.Path, h.Reason)
		}
	}
	return b.String()
}

// planPart is the last part of the first message: the plan and the task.
func planPart(plan string, creates []string) string {
	var b strings.Builder
	b.WriteString("# Plan\n\n")
	b.WriteString(strings.TrimRight(plan, "\n"))
	b.WriteString("\n\n# Task\n\nCarry out the plan above with edit blocks for the files above")
	if len(creates) > 0 {
		fmt.Fprintf(&b, " and new files (the plan names these, which do not exist yet: %s)", strings.Join(creates, ", "))
	}
	b.WriteString(". Edit only what the plan needs.\n")
	return b.String()
}
