package lsp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lore/api"
)

func (s *Server) repoRoot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.root
}

func (s *Server) currentSettings() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// daemon returns the shared client of the repository's daemon, connecting
// (and starting the daemon, unless NoStart) when there is none.
func (s *Server) daemon(ctx context.Context) (*api.Client, error) {
	for {
		s.dmu.Lock()
		if c := s.dclient; c != nil {
			select {
			case <-c.Done():
				s.dclient = nil
			default:
				s.dmu.Unlock()
				return c, nil
			}
		}
		if s.dpending == nil && s.derr != nil && time.Since(s.dfailed) < retryConnect {
			// A failed start is not retried at every status poll.
			err := s.derr
			s.dmu.Unlock()
			return nil, err
		}
		if s.dpending == nil {
			ch := make(chan struct{})
			if !s.spawn(func() { s.connect(ch) }) {
				s.dmu.Unlock()
				return nil, errors.New("the server is shutting down")
			}
			s.dpending = ch
		}
		ch := s.dpending
		s.dmu.Unlock()
		select {
		case <-ch:
			s.dmu.Lock()
			c, err := s.dclient, s.derr
			s.dmu.Unlock()
			if c == nil {
				if err == nil {
					err = errors.New("no connection to the lore daemon")
				}
				return nil, err
			}
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// currentClient is the shared client if connected, without connecting.
func (s *Server) currentClient() *api.Client {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if c := s.dclient; c != nil {
		select {
		case <-c.Done():
		default:
			return c
		}
	}
	return nil
}

func (s *Server) connect(done chan struct{}) {
	root := s.repoRoot()
	ctx, cancel := context.WithTimeout(s.ctx, api.WaitTimeout+10*time.Second)
	defer cancel()
	c, err := api.Connect(ctx, root, api.ConnectOptions{
		Start:      !s.opts.NoStart,
		LoreBinary: s.opts.LoreBinary,
		Args:       s.opts.DaemonArgs,
		OnStart: func(logPath string) {
			s.log.Info("starting the lore daemon", "repo", root, "log", logPath)
			s.showMessage(msgInfo, fmt.Sprintf("lore: starting the daemon for %s (log: %s)", root, logPath))
		},
	})
	if err != nil && s.ctx.Err() == nil {
		s.log.Warn("connecting to the lore daemon", "repo", root, "error", err)
		s.warnOnce("connect", fmt.Sprintf("lore: cannot reach the daemon for %s: %v", root, err))
	}
	s.dmu.Lock()
	if s.ctx.Err() != nil && c != nil {
		c.Close()
		c, err = nil, s.ctx.Err()
	}
	s.dclient, s.derr, s.dpending, s.dfailed = c, err, nil, time.Now()
	if c != nil {
		delete(s.dwarned, "connect")
	}
	s.dmu.Unlock()
	close(done)
	if c != nil {
		s.log.Info("connected to the lore daemon", "repo", root)
		// A new connection (maybe a new daemon): hand over the buffers again.
		s.resyncBuffers()
	}
}

// warnOnce shows a warning once per key until the key is cleared.
func (s *Server) warnOnce(key, msg string) {
	s.dmu.Lock()
	seen := s.dwarned[key]
	s.dwarned[key] = true
	s.dmu.Unlock()
	if !seen {
		s.showMessage(msgWarning, msg)
	}
}
