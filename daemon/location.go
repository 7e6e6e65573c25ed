package daemon

import (
	"bytes"
	"fmt"
	"strings"

	"lore/api"
	"lore/ingest"
	"lore/ingest/scan"
)

// maxLocationBytes bounds the code a question may point at; a longer
// selection is cut, and the cut is said.
const maxLocationBytes = 64 << 10

// locationText renders the code a question is about (an editor selection
// or the cursor's line), so the model reads it right before the question.
// The editor's text wins; without it the lines come from the file as the
// scan the pack is fresh against holds it (an open buffer, or the file on
// disk). Either way the path must be one that scan holds: what the pack
// leaves out (a symlink, git's own files, a file git ignores, a secret) is
// refused with the reason, and never read.
func (d *Daemon) locationText(res *scan.Result, loc api.Location) (string, error) {
	rel, err := d.repoPath(loc.Path)
	if err != nil {
		return "", invalidParams("location: " + err.Error())
	}
	if loc.StartLine < 0 || loc.EndLine < 0 || (loc.EndLine > 0 && loc.EndLine < loc.StartLine) {
		return "", invalidParams(fmt.Sprintf("location: bad line range %d-%d (lines are 1-based, end ≥ start)", loc.StartLine, loc.EndLine))
	}
	if res == nil {
		return "", fmt.Errorf("location: the work tree has not been scanned yet; ask again")
	}
	f, reason := res.Lookup(rel)
	if f == nil {
		return "", invalidParams(fmt.Sprintf("location: %s is left out of lore's context (%s)", rel, reason))
	}
	text := loc.Text
	if limit := d.maxFileSize(); int64(len(text)) > limit {
		// The selection is tokenized while the question holds its view of
		// the prefix: bound it as the pack bounds a file.
		return "", invalidParams(fmt.Sprintf("location: the selection in %s is %d bytes, over the %d-byte file size limit (max_file_size)", rel, len(text), limit))
	}
	if text == "" {
		text = lines(f.Content, loc.StartLine, loc.EndLine)
	} else if _, secret := scan.DetectSecret(rel, []byte(text)); secret {
		return "", invalidParams(fmt.Sprintf("location: the selection in %s looks like it holds a secret; lore leaves secrets out", rel))
	} else if scan.IsBinary([]byte(text)) {
		return "", invalidParams(fmt.Sprintf("location: the selection in %s is not text (NUL bytes or invalid UTF-8)", rel))
	}
	return selectionText(rel, loc.StartLine, loc.EndLine, text), nil
}

// selectionText is the <selection> section placed before the question. Its
// text is fenced as a file's content is (ingest.Fence), so a selection
// cannot close its section and forge a question or an answer.
func selectionText(rel string, start, end int, text string) string {
	cut := ""
	if len(text) > maxLocationBytes {
		text = strings.ToValidUTF8(text[:maxLocationBytes], "")
		cut = " cut=\"the selection was longer; only its start is shown\""
	}
	span := ""
	switch {
	case start > 0 && end > start:
		span = fmt.Sprintf(" lines=\"%d-%d\"", start, end)
	case start > 0:
		span = fmt.Sprintf(" line=\"%d\"", start)
	}
	return "\n<selection path=\"" + ingest.EscapeAttr(rel) + "\"" + span + cut + ">\n" +
		ingest.Fence(strings.TrimRight(text, "\n")) + "\n</selection>\n"
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

// maxFileSize is the largest file the pack may hold, and so the largest
// selection a question may bring.
func (d *Daemon) maxFileSize() int64 {
	if d.opts.Scan.MaxFileSize > 0 {
		return d.opts.Scan.MaxFileSize
	}
	return scan.DefaultMaxFileSize
}
