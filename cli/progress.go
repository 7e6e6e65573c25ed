package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"lore/api"
)

// progressLine draws progress on one terminal line; it stays quiet when
// the output is not a terminal.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	shown bool
}

func (p *progressLine) show(pr api.Progress) {
	if pr.Total > 0 {
		p.printf("prefilling the repository: %d/%d tokens (%d%%)", pr.Done, pr.Total, 100*pr.Done/pr.Total)
	}
}

func (p *progressLine) printf(format string, a ...any) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K"+format, a...)
	p.shown = true
}

func (p *progressLine) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// bar draws a progress bar of width cells.
func bar(done, total, width int) string {
	if total <= 0 {
		return ""
	}
	n := min(width, done*width/total)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
