package cmdline

import (
	"fmt"
	"io"
	"sync"

	"lore/api"
)

// Progress draws progress on one terminal line; it stays quiet when the
// output is not a terminal.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	shown bool
}

// NewProgress returns a progress line on w.
func NewProgress(w io.Writer) *Progress { return &Progress{w: w, on: IsTerminal(w)} }

// Show draws the daemon's prefill progress.
func (p *Progress) Show(pr api.Progress) {
	if pr.Total > 0 {
		p.Printf("prefilling the repository: %d/%d tokens (%d%%)", pr.Done, pr.Total, 100*pr.Done/pr.Total)
	}
}

// Printf replaces the line with a formatted one.
func (p *Progress) Printf(format string, a ...any) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K"+format, a...)
	p.shown = true
}

// Clear erases the line, if one is shown.
func (p *Progress) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
