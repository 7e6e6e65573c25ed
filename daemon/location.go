package daemon

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"lore/api"
	"lore/ingest/scan"
)

// maxLocationBytes bounds the code a question may point at; a longer
// selection is cut, and the cut is said.
const maxLocationBytes = 64 << 10

// locationText renders the code a question is about (an editor selection
// or the cursor's line), so the model reads it right before the question.
// The editor's text wins; without it the lines come from the open buffer
// or the file on disk.
func (d *Daemon) locationText(loc api.Location) (string, error) {
	rel, err := d.repoPath(loc.Path)
	if err != nil {
		return "", invalidParams("location: " + err.Error())
	}
	if loc.StartLine < 0 || loc.EndLine < 0 || (loc.EndLine > 0 && loc.EndLine < loc.StartLine) {
		return "", invalidParams(fmt.Sprintf("location: bad line range %d-%d (lines are 1-based, end ≥ start)", loc.StartLine, loc.EndLine))
	}
	text := loc.Text
	if text == "" {
		content, ok := d.bufferContents()[rel]
		if !ok {
			b, err := os.ReadFile(filepath.Join(d.opts.Repo, filepath.FromSlash(rel)))
			if err != nil {
				return "", invalidParams(fmt.Sprintf("location: cannot read %s: %v", rel, err))
			}
			content = b
		}
		if reason := scan.SkipReason(d.opts.Repo, rel, content, d.opts.Scan); reason != "" {
			return "", invalidParams(fmt.Sprintf("location: %s is left out of lore's context (%s)", rel, reason))
		}
		text = lines(content, loc.StartLine, loc.EndLine)
	} else if _, secret := scan.DetectSecret(rel, []byte(text)); secret {
		return "", invalidParams(fmt.Sprintf("location: the selection in %s looks like it holds a secret; lore leaves secrets out", rel))
	}
	cut := ""
	if len(text) > maxLocationBytes {
		text = strings.ToValidUTF8(text[:maxLocationBytes], "")
		cut = " cut=\"the selection was longer; only its start is shown\""
	}
	span := ""
	switch {
	case loc.StartLine > 0 && loc.EndLine > loc.StartLine:
		span = fmt.Sprintf(" lines=\"%d-%d\"", loc.StartLine, loc.EndLine)
	case loc.StartLine > 0:
		span = fmt.Sprintf(" line=\"%d\"", loc.StartLine)
	}
	return fmt.Sprintf("\n<selection path=%q%s%s>\n%s\n</selection>\n", rel, span, cut, strings.TrimRight(text, "\n")), nil
}

// lines returns lines start..end (1-based, inclusive) of content; start 0
// means the whole content, end 0 the start line only.
func lines(content []byte, start, end int) string {
	if start <= 0 {
		return string(content)
	}
	if end < start {
		end = start
	}
	all := bytes.SplitAfter(content, []byte("\n"))
	if start > len(all) {
		return ""
	}
	return string(bytes.Join(all[start-1:min(end, len(all))], nil))
}
