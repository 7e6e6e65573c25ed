package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"lore/api"
	"lore/internal/cmdline"
	"lore/lsp"
)

const lspUsage = `Usage: lore bench lsp [--repo DIR] [--model FILE] [--runs N] [--max-tokens N] [--json]

Measures the LSP bridge on a warm daemon:
  code actions  time from sending initialize to a fresh 'lore lsp' process
                (already reading its input) until its first code action list
                arrives (initialize, initialized, textDocument/codeAction),
                and the same from the process start
  first token   time to the first answer text of the same question through
                'lore lsp' (lore/ask, first partial result) and straight
                through the daemon's API client, alternating, with the
                median of the paired differences: the bridge's overhead;
                and the same less each answer's daemon-side first-token
                time, which removes the daemon's run-to-run noise

Without --model it uses the repository's daemon (started if none runs, with
the usual settings); with --model it runs a private daemon with a private
state folder.
`

type lspResult struct {
	Date                 string  `json:"date"`
	Repo                 string  `json:"repo"`
	Model                string  `json:"model"`
	PackTokens           int     `json:"pack_tokens"`
	Runs                 int     `json:"runs"`
	MaxTokens            int     `json:"max_tokens"`
	InitToCodeActionsMs  float64 `json:"init_to_code_actions_ms"`     // median
	InitToCodeActionsMax float64 `json:"init_to_code_actions_max_ms"` // worst run
	SpawnToCodeActionsMs float64 `json:"spawn_to_code_actions_ms"`    // median, process start included
	LSPTTFTMs            float64 `json:"lsp_ttft_ms"`                 // median, client side
	DirectTTFTMs         float64 `json:"direct_ttft_ms"`              // median, client side
	OverheadMs           float64 `json:"ttft_overhead_ms"`            // median of paired differences
	OverheadMeanMs       float64 `json:"ttft_overhead_mean_ms"`
	// The same difference less each question's daemon-side first-token
	// time: the paths' own cost, without the daemon's run-to-run noise.
	TransportOverheadMs float64 `json:"ttft_transport_overhead_ms"`
}

func runLSP(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore bench lsp", lspUsage, stdout)
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	model := fs.String("model", "", "GGUF model for a private daemon (default: the repository's daemon)")
	runs := fs.Int("runs", 10, "repetitions; medians are reported")
	maxTokens := fs.Int("max-tokens", 4, "answer length of the first-token questions")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if *runs <= 0 || *maxTokens <= 0 {
		return cmdline.UsageErr("--runs and --max-tokens must be positive")
	}
	private := ""
	if *model != "" {
		private = "lore-bench-lsp-"
	}
	su, err := begin(*repo, private, *model, stderr)
	if err != nil {
		return err
	}
	defer su.close()
	ctx, root, exe := su.ctx, su.root, su.exe
	if private != "" {
		// A private daemon: the lsp processes inherit its state and socket
		// folders.
		for _, v := range su.vars() {
			k, val, _ := strings.Cut(v, "=")
			os.Setenv(k, val)
		}
	}
	started := false
	cctx, ccancel := context.WithTimeout(ctx, api.WaitTimeout)
	c, err := api.Connect(cctx, root, api.ConnectOptions{Start: true, LoreBinary: exe, OnStart: func(log string) {
		started = true
		fmt.Fprintf(stderr, "starting a daemon for %s (log: %s)\n", root, log)
	}})
	ccancel()
	if err != nil {
		return err
	}
	defer func() {
		if started {
			// Stop the daemon started here, and wait for it to exit before
			// its state folder goes.
			sctx, scancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer scancel()
			cmdline.StopDaemon(sctx, c)
		}
		c.Close()
	}()
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Minute)
	st, err := waitDaemonReady(rctx, c)
	rcancel()
	if err != nil {
		return err
	}
	b := &lspBench{exe: exe, root: root, client: c, maxTokens: *maxTokens, log: stderr}
	if b.file, err = benchFile(root); err != nil {
		return err
	}
	res := lspResult{Date: time.Now().Format("2006-01-02"), Repo: root, Model: st.ModelPath, PackTokens: st.PackTokens, Runs: *runs, MaxTokens: *maxTokens}

	// (a) the first code actions, each in a fresh process.
	var initCA, spawnCA []float64
	for i := 0; i < *runs; i++ {
		a, err := b.codeActions(ctx, true)
		if err != nil {
			return err
		}
		s, err := b.codeActions(ctx, false)
		if err != nil {
			return err
		}
		initCA, spawnCA = append(initCA, a), append(spawnCA, s)
	}
	res.InitToCodeActionsMs, res.SpawnToCodeActionsMs = median(initCA), median(spawnCA)
	res.InitToCodeActionsMax = maxOf(initCA)

	// (b) first-token overhead, alternating bridge and direct.
	ft, err := b.firstTokens(ctx, *runs)
	if err != nil {
		return err
	}
	res.LSPTTFTMs, res.DirectTTFTMs, res.OverheadMs = median(ft.lsp), median(ft.direct), median(ft.diff)
	res.TransportOverheadMs = median(ft.transport)
	for _, d := range ft.diff {
		res.OverheadMeanMs += d / float64(len(ft.diff))
	}

	su.ok = true
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "repository %s, pack %d tokens, model %s, %d runs (medians)\n", res.Repo, res.PackTokens, filepath.Base(res.Model), res.Runs)
	fmt.Fprintf(stdout, "%-44s %9s\n", "measure", "ms")
	fmt.Fprintf(stdout, "%-44s %9.1f  (worst %.1f; goal ≤ 50)\n", "initialize → first code action list", res.InitToCodeActionsMs, res.InitToCodeActionsMax)
	fmt.Fprintf(stdout, "%-44s %9.1f\n", "process start → first code action list", res.SpawnToCodeActionsMs)
	fmt.Fprintf(stdout, "%-44s %9.1f\n", "first token through lore lsp (lore/ask)", res.LSPTTFTMs)
	fmt.Fprintf(stdout, "%-44s %9.1f\n", "first token through the API client", res.DirectTTFTMs)
	fmt.Fprintf(stdout, "%-44s %9.2f  (mean %.2f; goal ≤ 10)\n", "bridge overhead on first token", res.OverheadMs, res.OverheadMeanMs)
	fmt.Fprintf(stdout, "%-44s %9.2f  (less the daemon's own first-token time)\n", "bridge overhead, transport only", res.TransportOverheadMs)
	return nil
}

// benchFile is a file of the repository to ask code actions for.
func benchFile(root string) (string, error) {
	for _, name := range []string{"README.md", "go.mod", "main.go"} {
		if st, err := os.Stat(filepath.Join(root, name)); err == nil && st.Mode().IsRegular() {
			return filepath.Join(root, name), nil
		}
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			return filepath.Join(root, e.Name()), nil
		}
	}
	return "", fmt.Errorf("no file at the top of %s to ask code actions for", root)
}

type lspBench struct {
	exe, root, file string
	client          *api.Client
	maxTokens       int
	log             io.Writer
}

// lspProcess is a running `lore lsp`.
type lspProcess struct {
	cmd    *exec.Cmd
	client *lsp.Client
	done   chan error
}

func (b *lspBench) spawn() (*lspProcess, error) {
	cmd := exec.Command(b.exe, "lsp", "--repo", b.root, "--log-level", "warn")
	cmd.Stderr = b.log
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &lspProcess{cmd: cmd, client: lsp.NewClient(lsp.ReadWriteCloser{Reader: out, WriteCloser: in}), done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

func (p *lspProcess) initialize(ctx context.Context, root string) error {
	params := map[string]any{"processId": os.Getpid(), "rootUri": "file://" + root, "capabilities": map[string]any{}}
	if err := p.client.Call(ctx, "initialize", params, nil); err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	return p.client.Notify(ctx, "initialized", map[string]any{})
}

// stop ends the process with shutdown and exit.
func (p *lspProcess) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.client.Call(ctx, "shutdown", nil, nil)
	p.client.Notify(ctx, "exit", nil)
	select {
	case err := <-p.done:
		p.client.Close()
		return err
	case <-ctx.Done():
		p.cmd.Process.Kill()
		<-p.done
		p.client.Close()
		return errors.New("lore lsp did not exit after shutdown and exit")
	}
}

// codeActions times one fresh process until its first code action list:
// from the process start (what an editor waits), or, with settle, from
// initialize sent to a process that already reads its input (the server's
// own time).
func (b *lspBench) codeActions(ctx context.Context, settle bool) (float64, error) {
	t0 := time.Now()
	p, err := b.spawn()
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if settle {
		time.Sleep(300 * time.Millisecond)
		t0 = time.Now()
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.initialize(cctx, b.root); err != nil {
		return 0, err
	}
	var actions []protocol.CodeAction
	r := protocol.Range{Start: protocol.Position{Line: 0}, End: protocol.Position{Line: 0}}
	if err := p.client.Call(cctx, "textDocument/codeAction", protocol.CodeActionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: "file://" + b.file}, Range: r,
		Context: protocol.CodeActionContext{Diagnostics: []protocol.Diagnostic{}},
	}, &actions); err != nil {
		return 0, fmt.Errorf("codeAction: %w", err)
	}
	d := time.Since(t0)
	if len(actions) == 0 {
		return 0, errors.New("no code actions for " + b.file)
	}
	return ms(d), nil
}

// firstTokens asks the same question runs times each way, alternating
// which goes first, and returns the client-side times to first text.
func (b *lspBench) firstTokens(ctx context.Context, runs int) (r ttftRuns, err error) {
	p, err := b.spawn()
	if err != nil {
		return r, err
	}
	defer p.stop()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := p.initialize(cctx, b.root); err != nil {
		return r, err
	}
	const q = "In one sentence, what is this repository for?"
	askLSP := func() (sample, error) {
		var once sync.Once
		var first time.Duration
		start := time.Now()
		res, err := p.client.Ask(cctx, lsp.AskParams{Question: q, MaxTokens: b.maxTokens}, func(string) {
			once.Do(func() { first = time.Since(start) })
		})
		if err == nil && first == 0 {
			err = errors.New("lore/ask streamed no text")
		}
		if err != nil {
			return sample{}, err
		}
		return sample{client: ms(first), daemon: res.TTFTMillis}, nil
	}
	askDirect := func() (sample, error) {
		var once sync.Once
		var first time.Duration
		start := time.Now()
		res, err := b.client.Ask(cctx, api.AskParams{Question: q, MaxTokens: b.maxTokens}, func(string) {
			once.Do(func() { first = time.Since(start) })
		}, nil)
		if err == nil && first == 0 {
			err = errors.New("the daemon streamed no text")
		}
		if err != nil {
			return sample{}, err
		}
		return sample{client: ms(first), daemon: res.TTFTMillis}, nil
	}
	// Warm both paths once.
	if _, err := askLSP(); err != nil {
		return r, err
	}
	if _, err := askDirect(); err != nil {
		return r, err
	}
	for i := 0; i < runs; i++ {
		var l, d sample
		if i%2 == 0 {
			if l, err = askLSP(); err == nil {
				d, err = askDirect()
			}
		} else {
			if d, err = askDirect(); err == nil {
				l, err = askLSP()
			}
		}
		if err != nil {
			return r, err
		}
		r.lsp, r.direct = append(r.lsp, l.client), append(r.direct, d.client)
		r.diff = append(r.diff, l.client-d.client)
		// The daemon's own first-token time differs run to run (queueing,
		// a refresh); what the client waits beyond it is the path's cost.
		r.transport = append(r.transport, (l.client-l.daemon)-(d.client-d.daemon))
	}
	return r, nil
}

// sample is one question's time to first text, seen by the client and by
// the daemon.
type sample struct{ client, daemon float64 }

type ttftRuns struct{ lsp, direct, diff, transport []float64 }

func maxOf(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)-1]
}
