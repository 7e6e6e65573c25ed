package lsp

import (
	"context"

	"lore/api"
)

// statusRequest serves lore/status: the daemon's api.Status, as `lore
// status --json` prints it. It connects (starting the daemon) when needed.
func (s *Server) statusRequest(c *call) (any, error) {
	return s.status(c.ctx)
}

func (s *Server) status(ctx context.Context) (*api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, api.WaitTimeout+DaemonTimeout)
	defer cancel()
	cl, err := s.daemon(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel2 := context.WithTimeout(ctx, DaemonTimeout)
	defer cancel2()
	return cl.Status(ctx)
}
