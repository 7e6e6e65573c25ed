package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"lore/ingest"
	"lore/ingest/syntax"
)

// WithBuffers returns res with editor buffers in place of the files on disk:
// an unsaved buffer is what the user sees, so answers must see it too. A
// buffer for a file the scan does not hold (a new file not yet saved) is
// added. Each buffer passes SkipReason first, so a buffer holding a secret
// never reaches the pack; those come back in Skipped. res itself is not
// changed. buffers maps slash-separated paths below res.Root to contents.
func WithBuffers(res *Result, buffers map[string][]byte, opts Options) *Result {
	if len(buffers) == 0 {
		return res
	}
	out := *res
	out.Files = make([]ingest.File, 0, len(res.Files)+len(buffers))
	out.Skipped = append([]ingest.Skipped(nil), res.Skipped...)
	pc := &parseCache{kv: opts.Cache}
	seen := make(map[string]bool, len(buffers))
	for _, f := range res.Files {
		content, ok := buffers[f.Path]
		if !ok {
			out.Files = append(out.Files, f)
			continue
		}
		seen[f.Path] = true
		if bf, ok := bufferFile(res.Root, f.Path, content, opts, pc, &out); ok {
			bf.Tracked = f.Tracked
			out.Files = append(out.Files, bf)
		}
	}
	for p, content := range buffers {
		if seen[p] {
			continue
		}
		if bf, ok := bufferFile(res.Root, p, content, opts, pc, &out); ok {
			out.Files = append(out.Files, bf)
		}
	}
	sort.Slice(out.Files, func(i, j int) bool { return out.Files[i].Path < out.Files[j].Path })
	sort.Slice(out.Skipped, func(i, j int) bool { return out.Skipped[i].Path < out.Skipped[j].Path })
	return &out
}

func bufferFile(root, p string, content []byte, opts Options, pc *parseCache, out *Result) (ingest.File, bool) {
	if reason := SkipReason(root, p, content, opts); reason != "" {
		out.Skipped = append(out.Skipped, ingest.Skipped{Path: p, Reason: "editor buffer: " + reason})
		return ingest.File{}, false
	}
	sum := sha256.Sum256(content)
	f := ingest.File{
		Path:    p,
		Lang:    syntax.DetectLang(p),
		Size:    int64(len(content)),
		Hash:    hex.EncodeToString(sum[:]),
		Content: content,
	}
	pc.fill(&f)
	return f, true
}
