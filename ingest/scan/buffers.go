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
// added. Each buffer goes through exactly the selection res was scanned
// with (opts only for a Result made by hand), its path judged against the
// disk as it is now: a buffer that git ignores, that lies inside .git,
// that is or runs through a symlink, or that holds a secret never reaches
// the pack; those come back in Skipped, "editor buffer: " and the reason.
// res itself is not changed. buffers maps slash-separated paths below
// res.Root to contents.
func WithBuffers(res *Result, buffers map[string][]byte, opts Options) *Result {
	if len(buffers) == 0 {
		return res
	}
	out := *res
	out.Files = make([]ingest.File, 0, len(res.Files)+len(buffers))
	out.Skipped = append([]ingest.Skipped(nil), res.Skipped...)
	pc := &parseCache{kv: opts.Cache}
	adm := res.admission(opts)
	seen := make(map[string]bool, len(buffers))
	for _, f := range res.Files {
		content, ok := buffers[f.Path]
		if !ok {
			out.Files = append(out.Files, f)
			continue
		}
		seen[f.Path] = true
		if bf, ok := bufferFile(adm, f.Path, content, pc, &out); ok {
			bf.Tracked = f.Tracked
			out.Files = append(out.Files, bf)
		}
	}
	for p, content := range buffers {
		if seen[p] {
			continue
		}
		if bf, ok := bufferFile(adm, p, content, pc, &out); ok {
			out.Files = append(out.Files, bf)
		}
	}
	sort.Slice(out.Files, func(i, j int) bool { return out.Files[i].Path < out.Files[j].Path })
	sort.Slice(out.Skipped, func(i, j int) bool {
		a, b := out.Skipped[i], out.Skipped[j]
		return a.Path < b.Path || a.Path == b.Path && a.Reason < b.Reason
	})
	return &out
}

func bufferFile(adm *admission, p string, content []byte, pc *parseCache, out *Result) (ingest.File, bool) {
	if reason := adm.reason(p, content); reason != "" {
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
