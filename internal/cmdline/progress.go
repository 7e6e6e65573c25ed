package cmdline

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"lore/api"
)

// Progress draws progress on one terminal line; it stays quiet when the
// output is not a terminal.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	shown bool
	// The rate is measured from the first report of a run of reports
	// (a prefill), so that the time before it (loading the model) does not
	// count.
	start     time.Time
	startDone int
	lastTotal int
	prefilled bool // a prefill was shown and did not reach its end
	watched   int  // tokens seen prefilled: from the first report below its total to the last
	firstDone int  // -1 until a report below its total
}

// NewProgress returns a progress line on w.
func NewProgress(w io.Writer) *Progress { return &Progress{w: w, on: IsTerminal(w), firstDone: -1} }

// Show draws the daemon's prefill progress: a bar, the share done, the rate
// and the time left.
func (p *Progress) Show(pr api.Progress) {
	if pr.Total <= 0 {
		return
	}
	p.mu.Lock()
	now := time.Now()
	if p.start.IsZero() || pr.Total != p.lastTotal || pr.Done < p.startDone {
		p.start, p.startDone, p.lastTotal = now, pr.Done, pr.Total
	}
	p.prefilled = pr.Done < pr.Total
	if p.firstDone < 0 && pr.Done < pr.Total {
		p.firstDone = pr.Done
	}
	if p.firstDone >= 0 {
		p.watched = max(p.watched, pr.Done-p.firstDone)
	}
	elapsed := now.Sub(p.start)
	done := pr.Done - p.startDone
	p.mu.Unlock()
	p.Printf("%s", ProgressLine("prefilling the repository", int64(pr.Done), int64(pr.Total), "tokens", done, elapsed))
}

// Prefilling reports whether the last progress shown was a prefill that
// had not finished: what a Ctrl-C leaves the daemon doing.
func (p *Progress) Prefilling() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prefilled
}

// Prefilled is how many tokens the reports showed being prefilled, from the
// first report that was not at its end to the last (0 if none: a restored
// snapshot reports itself done at once).
func (p *Progress) Prefilled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.watched
}

// ProgressLine is one line of progress: what, a bar, done/total with
// thousands separators, the share, and once measurable the rate (of the
// units done in elapsed) and the time left.
func ProgressLine(what string, done, total int64, unit string, measured int, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s/%s %s (%d%%)", what, Bar(done, total, 20), Thousands(done), Thousands(total), unit, 100*done/max(total, 1))
	if measured > 0 && elapsed >= 500*time.Millisecond {
		rate := float64(measured) / elapsed.Seconds()
		left := time.Duration(float64(total-done) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", %s %s/s, %s left", Thousands(int64(rate)), unit, Seconds(left))
	}
	return b.String()
}

// Bar draws a progress bar of width cells.
func Bar(done, total int64, width int) string {
	if total <= 0 {
		return ""
	}
	n := int(min(int64(width), done*int64(width)/total))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// Thousands writes n with a comma between groups of three digits.
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Seconds writes a duration as people read it: 350 ms, 4.2 s, 3 min 5 s,
// 2 h 10 min.
func Seconds(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
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
