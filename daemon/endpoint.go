package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// guardInterval is how often a daemon checks that its lock and its socket
// are still in place. Two stats: the cost is nil, and a client finds the
// socket again within a second of its removal.
const guardInterval = time.Second

// endpoint is where clients reach the daemon: the socket, and the lock that
// makes its path the daemon's. Files in the runtime folder can go away under
// a running daemon (a clean-up of the temp folder, a user removing them):
// the guard puts them back, or stops the daemon when another one took the
// lock over.
type endpoint struct {
	d      *Daemon
	ctx    context.Context
	socket string
	lock   *daemonLock // touched by the guard alone until it is done

	mu     sync.Mutex
	ln     net.Listener
	sock   fs.FileInfo // the socket file ln listens on
	closed bool

	accepting sync.WaitGroup // the accept loops, one per listener
	conns     sync.WaitGroup // the clients being served
	guardDone chan struct{}
}

// openEndpoint takes the repository's lock and listens on its socket. It
// stops listening, and removes the socket, when ctx ends.
func (d *Daemon) openEndpoint(ctx context.Context) (*endpoint, error) {
	if err := prepareSocketDir(filepath.Dir(d.opts.Socket)); err != nil {
		return nil, err
	}
	lock, err := acquireLock(d.opts.Repo, d.opts.Socket)
	if err != nil {
		return nil, err
	}
	// Holding the lock, a socket left at the path is a dead daemon's; but
	// a daemon of an older lore kept its lock in the state folder, and
	// removing its live socket would leave it unreachable.
	if live(d.opts.Socket) {
		lock.release()
		return nil, fmt.Errorf("%w: %s (a daemon without our lock listens on %s: an older lore's?); stop it with `lore stop --repo %s`", ErrAlreadyRunning, d.opts.Repo, d.opts.Socket, d.opts.Repo)
	}
	ln, st, err := listen(d.opts.Socket)
	if err != nil {
		lock.release()
		return nil, err
	}
	ep := &endpoint{d: d, ctx: ctx, socket: d.opts.Socket, lock: lock, guardDone: make(chan struct{})}
	ep.serve(ln, st)
	go ep.guard()
	go func() {
		<-ctx.Done()
		ep.closeSocket()
	}()
	return ep, nil
}

// serve accepts clients on ln, which listens on the socket file st, in
// place of the listener before it.
func (ep *endpoint) serve(ln net.Listener, st fs.FileInfo) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.closed {
		ln.Close()
		removeIfSame(ep.socket, st)
		return
	}
	if ep.ln != nil {
		ep.ln.Close()
	}
	ep.ln, ep.sock = ln, st
	ep.accepting.Add(1)
	go func() {
		defer ep.accepting.Done()
		ep.d.accept(ep.ctx, ln, &ep.conns)
	}()
}

// closeSocket stops accepting clients and removes the socket file, so that
// a new daemon knows this one is stopping. A file another daemon has put at
// the path since is left alone.
func (ep *endpoint) closeSocket() {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.closed {
		return
	}
	ep.closed = true
	ep.ln.Close()
	removeIfSame(ep.socket, ep.sock)
}

// close ends the endpoint once the daemon is done: the socket first, then
// the clients, then the lock.
func (ep *endpoint) close() {
	ep.closeSocket()
	<-ep.guardDone
	ep.accepting.Wait()
	ep.conns.Wait()
	ep.lock.release()
}

// guard checks the lock and the socket until the daemon stops; when it
// cannot keep them, the daemon stops.
func (ep *endpoint) guard() {
	defer close(ep.guardDone)
	tick := time.NewTicker(guardInterval)
	defer tick.Stop()
	for {
		select {
		case <-ep.ctx.Done():
			return
		case <-tick.C:
		}
		if err := ep.check(); err != nil {
			ep.d.log.Error("stopping", "err", err)
			ep.d.Shutdown()
			return
		}
	}
}

// check puts back a removed lock or socket, and fails when the repository
// itself is gone. The lock comes first: only its holder may replace the file
// at the socket path.
func (ep *endpoint) check() error {
	// A daemon whose repository is gone serves no one and holds its model's
	// memory: a deleted clone, or a test's folder after the test.
	if _, err := os.Stat(ep.d.opts.Repo); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the repository %s was removed", ep.d.opts.Repo)
	}
	if !ep.lock.held() {
		if err := ep.lock.retake(); err != nil {
			return fmt.Errorf("the daemon lock %s was removed or replaced, and taking it again failed (%v): another daemon may serve the repository now", ep.lock.path, err)
		}
		ep.d.log.Warn("the daemon lock was removed; took it again", "lock", ep.lock.path)
	}
	ep.mu.Lock()
	sock, closed := ep.sock, ep.closed
	ep.mu.Unlock()
	if closed {
		return nil
	}
	if st, err := os.Lstat(ep.socket); err == nil && os.SameFile(st, sock) {
		return nil
	}
	ln, st, err := listen(ep.socket)
	if err != nil {
		return fmt.Errorf("the socket %s was removed, and listening again failed: %w", ep.socket, err)
	}
	ep.serve(ln, st)
	ep.d.log.Warn("the socket was removed; listening again", "socket", ep.socket)
	return nil
}

// removeIfSame removes path if it still names the file st.
func removeIfSame(path string, st fs.FileInfo) {
	if cur, err := os.Lstat(path); err == nil && os.SameFile(cur, st) {
		os.Remove(path)
	}
}

// live reports whether a process accepts connections on socket.
func live(socket string) bool {
	c, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
