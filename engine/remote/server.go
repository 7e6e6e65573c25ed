package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ServerOptions start a llama-server on loopback, for lore bench remote
// and the tests: the same binary and flags a user would run.
type ServerOptions struct {
	Binary   string // the llama-server executable
	Model    string // GGUF file
	Context  int    // --ctx-size of each slot (the server's total is Context × Slots)
	Slots    int    // --parallel; 0 = 1
	Threads  int    // --threads; 0 = the server's default
	SaveDir  string // --slot-save-path ("" = none: slots cannot be saved)
	SWAFull  bool   // --swa-full
	LogFile  string // the server's output ("" = discarded)
	Port     int    // 0 = a free one
	Extra    []string
	StartMax time.Duration // how long loading may take; 0 = 2 minutes
}

// Server is a llama-server process started by StartServer.
type Server struct {
	opts ServerOptions
	URL  string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
}

// StartServer starts llama-server and waits until it answers /health.
func StartServer(ctx context.Context, o ServerOptions) (*Server, error) {
	if o.Slots <= 0 {
		o.Slots = 1
	}
	if o.StartMax <= 0 {
		o.StartMax = 2 * time.Minute
	}
	if o.Port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		o.Port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	s := &Server{opts: o, URL: fmt.Sprintf("http://127.0.0.1:%d", o.Port)}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Start (re)starts the process after Stop, on the same port.
func (s *Server) Start(ctx context.Context) error {
	o := s.opts
	args := []string{"--model", o.Model, "--host", "127.0.0.1", "--port", strconv.Itoa(o.Port),
		"--ctx-size", strconv.Itoa(o.Context * o.Slots), "--parallel", strconv.Itoa(o.Slots),
		"--no-webui", "--no-kv-unified"} // each slot its own Context
	if o.Threads > 0 {
		args = append(args, "--threads", strconv.Itoa(o.Threads), "--threads-batch", strconv.Itoa(o.Threads))
	}
	if o.SaveDir != "" {
		args = append(args, "--slot-save-path", o.SaveDir)
	}
	if o.SWAFull {
		args = append(args, "--swa-full")
	}
	args = append(args, o.Extra...)
	cmd := exec.Command(o.Binary, args...)
	var logf *os.File
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr, logf = f, f, f
	}
	// No Pdeathsig: Linux sends it when the thread that started the
	// child ends, and Go ends threads at will; callers Stop the server.
	if err := cmd.Start(); err != nil {
		if logf != nil {
			logf.Close()
		}
		return fmt.Errorf("starting %s: %w", o.Binary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.mu.Lock()
	s.cmd, s.log = cmd, logf
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, o.StartMax)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case err := <-exited:
			s.mu.Lock()
			s.cmd = nil
			s.mu.Unlock()
			if logf != nil {
				logf.Close()
			}
			return fmt.Errorf("llama-server exited while loading (log: %s): %v", o.LogFile, err)
		case <-ctx.Done():
			s.Stop()
			return fmt.Errorf("llama-server did not get ready in %s (log: %s)", o.StartMax, o.LogFile)
		case <-tick.C:
			resp, err := client.Get(s.URL + "/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					go func() {
						// Reap the process when it ends by itself.
						err := <-exited
						s.mu.Lock()
						if s.cmd == cmd {
							s.cmd = nil
						}
						s.mu.Unlock()
						_ = err
					}()
					return nil
				}
			}
		}
	}
}

// Stop kills the server (SIGKILL: what a crash or a power cut leaves) and
// waits until its port is free.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, logf := s.cmd, s.log
	s.cmd, s.log = nil, nil
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		cmd.Process.Kill()
		for i := 0; i < 200; i++ {
			if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if logf != nil {
		logf.Close()
	}
	for i := 0; i < 200; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.opts.Port), 50*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// Restart stops the server and starts it again on the same port: its
// slots are empty, its slot save files remain.
func (s *Server) Restart(ctx context.Context) error {
	s.Stop()
	return s.Start(ctx)
}

// ErrNoServer is returned when no llama-server binary is configured.
var ErrNoServer = errors.New("no llama-server binary: run `make deps-server` (or set LORE_LLAMA_SERVER)")

// SaveDir is the server's --slot-save-path ("" = none).
func (s *Server) SaveDir() string { return s.opts.SaveDir }
