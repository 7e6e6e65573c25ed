package pack

import (
	"errors"
	"fmt"
	"path/filepath"

	"lore/ingest"
	"lore/ingest/layout"
	"lore/ingest/scan"
)

// PackerStateFormat is the version of PackerState; a state of another
// version is not resumed.
const PackerStateFormat = 1

// PackerState is what a Packer needs to resume after a restart with the
// same pack, so that a KV snapshot of that pack stays valid: the layout,
// and the identity (not the text) of every segment in it. The caller keeps
// the segments' token arrays (by hash) to go with it.
type PackerState struct {
	Format   int               `json:"format"`
	Root     string            `json:"root"`
	Policy   layout.Policy     `json:"policy"`
	Preamble ingest.Segment    `json:"preamble"`
	Map      ingest.Segment    `json:"map"`
	Entries  []layout.Entry    `json:"entries"`
	Segments []ingest.Segment  `json:"segments"` // one per hash in Entries, without Text
	Reduced  []ingest.Reduced  `json:"reduced"`
	Files    map[string]string `json:"files"` // path -> content hash of the current version
}

// State returns the packer's state for ResumePacker.
func (p *Packer) State() PackerState {
	st := PackerState{
		Format:   PackerStateFormat,
		Root:     p.root,
		Policy:   p.layout.Policy,
		Preamble: p.preamble,
		Map:      p.mapSeg,
		Entries:  p.layout.Entries(),
		Reduced:  append([]ingest.Reduced(nil), p.reduced...),
		Files:    make(map[string]string, len(p.files)),
	}
	seen := map[string]bool{}
	for _, e := range st.Entries {
		if seen[e.Hash] {
			continue
		}
		seen[e.Hash] = true
		s := p.segs[e.Hash]
		s.Text = ""
		st.Segments = append(st.Segments, s)
	}
	for path, f := range p.files {
		st.Files[path] = f.Hash
	}
	return st
}

// ResumePacker rebuilds a packer from a saved state and brings it up to date
// with a fresh scan: files changed since go to the overlay, exactly as if the
// packer had kept running. The restored segments carry no text: their tokens
// must come from the caller's cache. A state for another root, another
// format or another preamble is refused.
func ResumePacker(st PackerState, res *scan.Result, opts Options) (*Packer, error) {
	if st.Format != PackerStateFormat {
		return nil, fmt.Errorf("packer state format %d, want %d", st.Format, PackerStateFormat)
	}
	if st.Root != res.Root {
		return nil, fmt.Errorf("packer state is for %s, not %s", st.Root, res.Root)
	}
	p := &Packer{opts: opts, root: res.Root, files: map[string]*ingest.File{}, segs: map[string]ingest.Segment{}}
	p.name = opts.RepoName
	if p.name == "" {
		p.name = filepath.Base(res.Root)
	}
	if st.Preamble.Text != preambleText(p.name) {
		return nil, errors.New("the preamble changed since the state was saved")
	}
	p.preamble, p.mapSeg, p.reduced = st.Preamble, st.Map, st.Reduced
	for _, s := range st.Segments {
		p.segs[s.Hash] = s
	}
	for _, e := range st.Entries {
		if _, ok := p.segs[e.Hash]; !ok {
			return nil, fmt.Errorf("packer state lacks segment %s of %s", e.Hash, e.Path)
		}
	}
	for path, hash := range st.Files {
		p.files[path] = &ingest.File{Path: path, Hash: hash}
	}
	p.layout = layout.Resume(append([]layout.Entry(nil), st.Entries...), st.Policy)
	p.skipped = append([]ingest.Skipped(nil), res.Skipped...)
	p.version = 1
	p.Sync(res)
	// Unchanged files get their content back from the scan.
	for i := range res.Files {
		f := res.Files[i]
		p.files[f.Path] = &f
	}
	return p, nil
}
