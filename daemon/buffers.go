package daemon

import (
	"fmt"

	"lore/api"
)

// maxBuffers bounds the editor buffers a daemon keeps: each is a file's
// text held in memory until the editor closes it.
const maxBuffers = 1000

// buffer is an editor's unsaved text, owned by the client connection that
// sent it: when that client goes away (an editor killed without closing
// its buffers), its buffers go too.
type buffer struct {
	text  []byte
	owner any
}

// updateBuffer records an editor's unsaved text for a file; the next
// refresh packs it instead of the file on disk.
func (d *Daemon) updateBuffer(owner any, p api.BufferParams) error {
	rel, err := d.repoPath(p.Path)
	if err != nil {
		return invalidParams("buffer/update: " + err.Error())
	}
	d.mu.Lock()
	if _, ok := d.buffers[rel]; !ok && len(d.buffers) >= maxBuffers {
		d.mu.Unlock()
		return invalidParams(fmt.Sprintf("buffer/update: %d editor buffers are open already; close some (buffer/close) first", maxBuffers))
	}
	if old, ok := d.buffers[rel]; ok && string(old.text) == p.Text {
		old.owner = owner
		d.buffers[rel] = old
		d.mu.Unlock()
		return nil
	}
	d.buffers[rel] = buffer{text: []byte(p.Text), owner: owner}
	d.mu.Unlock()
	d.nudge()
	return nil
}

// closeBuffer drops an editor buffer: the file on disk counts again. The
// buffer is found under the path as written too, in case a symlink on the
// way changed since it was opened.
func (d *Daemon) closeBuffer(p api.BufferParams) error {
	rel, err := d.repoPath(p.Path)
	lexical, lexErr := d.lexicalPath(p.Path)
	if err != nil && lexErr != nil {
		return invalidParams("buffer/close: " + err.Error())
	}
	d.mu.Lock()
	_, ok := d.buffers[rel]
	if !ok || err != nil {
		rel = lexical
		_, ok = d.buffers[rel]
	}
	delete(d.buffers, rel)
	d.mu.Unlock()
	if ok {
		d.nudge()
	}
	return nil
}

// dropBuffers forgets the buffers a client connection left open.
func (d *Daemon) dropBuffers(owner any) {
	d.mu.Lock()
	n := 0
	for p, b := range d.buffers {
		if b.owner == owner {
			delete(d.buffers, p)
			n++
		}
	}
	d.mu.Unlock()
	if n > 0 {
		d.log.Info("a client went away: its unsaved buffers are dropped", "buffers", n)
		d.nudge()
	}
}

// bufferContents returns the open buffers (shared slices: never modified).
func (d *Daemon) bufferContents() map[string][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.buffers) == 0 {
		return nil
	}
	out := make(map[string][]byte, len(d.buffers))
	for k, v := range d.buffers {
		out[k] = v.text
	}
	return out
}

// nudge tells the watcher something changed that it cannot see (an editor
// buffer), so the prefix is brought up to date before the next question.
func (d *Daemon) nudge() {
	select {
	case d.nudges <- struct{}{}:
	default:
	}
}
