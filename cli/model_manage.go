package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	flag "github.com/spf13/pflag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"lore/config"
	"lore/engine"
	"lore/ingest"
	"lore/ingest/pack"
	"lore/ingest/scan"
	"lore/internal/bytesize"
	"lore/internal/cmdline"
	"lore/models"
)

const modelPullUsage = `Usage: lore model pull MODEL [--sha256 HEX] [-o FILE] [--force]

Downloads a GGUF model into the models folder (` + "`lore model ls`" + ` shows where)
and makes it the default model. MODEL is one of:

  a recommended model's name   lore model pull qwen3-coder-30b  (lore model ls --recommended)
  hf:ORG/REPO/FILE.gguf        a file of a Hugging Face repository (hf:ORG/REPO@REV/FILE.gguf
                               for another revision); HF_TOKEN, if set, is sent for gated and
                               private repositories; HF_ENDPOINT replaces the Hugging Face URL
  an http(s) URL               any server

The file is named after the last path element unless -o names it (a bare
name stays in the models folder; a path is used as given, and does not
become the default). An interrupted download is kept as FILE.partial and
resumed by the next pull. With --sha256 the file must match the digest, or
it is deleted.
`

const modelLsUsage = `Usage: lore model ls [--json]
       lore model ls --recommended [--memory BYTES] [--kv-cache-type TYPE] [--json]

Lists the GGUF files in the models folder with their size and, where the
header is readable, architecture, parameters, experts and context length;
the default model (the one pulled or chosen last, else default.gguf, else
the only one) is marked with *.

With --recommended, lists the models lore suggests instead: their download
size (also the memory the weights take), the KV cache cost per token and the
largest context that fits in --memory (default: this machine's available
memory) as the daemon's check before loading counts it: the weights, the KV
cache of the context and of four concurrent questions' room, and a 1 GiB
reserve.
`

const modelRmUsage = `Usage: lore model rm NAME

Deletes NAME (a file lore model ls lists; .gguf may be left out) from the
models folder, with its partial download. When it was the default model, the
default goes back to default.gguf or the only model left.
`

const modelUseUsage = `Usage: lore model use NAME

Makes NAME (a file lore model ls lists) the default model, the one the
daemon loads when no setting names one.
`

const modelInfoUsage = `Usage: lore model info FILE [--json] [--memory BYTES] [--repo DIR]

Reads a GGUF file's header (FILE may also name a file in the models folder):
architecture, experts, context length, the f16 KV cache cost per token and
how many tokens fit in --memory (default 8GiB; K, M, G, KiB, MiB, GiB are
binary, KB, MB, GB decimal). With --repo, also the repository's pack size in estimated tokens and
whether it fits.
`

// runModelPull implements lore model pull.
func runModelPull(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore model pull", modelPullUsage, stdout)
	sum := fs.String("sha256", "", "expected sha256 digest (hex)")
	out := fs.String("o", "", "file name or path (default: the URL's last path element in the models folder)")
	force := fs.Bool("force", false, "replace an existing file")
	ref, err := parseWithArg(fs, args, "MODEL")
	if err != nil {
		return err
	}
	src, err := models.ResolvePull(ref)
	if err != nil {
		return err
	}
	opts := models.PullOptions{URL: src.URL, Token: src.Token, SHA256: *sum, Force: *force, Retries: 3, Dir: models.Dir()}
	opts.Dest = filepath.Join(opts.Dir, src.File)
	if *out != "" {
		if strings.ContainsRune(*out, filepath.Separator) || strings.Contains(*out, "/") {
			opts.Dest = *out
		} else {
			opts.Dest = filepath.Join(opts.Dir, *out)
		}
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	pb := &pullBar{line: cmdline.NewProgress(stderr), start: time.Now()}
	opts.Progress = pb.update
	res, err := models.Pull(ctx, opts)
	pb.line.Clear()
	if err != nil {
		return err
	}
	how := "downloaded"
	if res.Resumed {
		how = "downloaded (resumed)"
	}
	fmt.Fprintf(stdout, "%s %s (%s, sha256 %s)\n", how, res.Path, bytesize.Format(res.Size), res.SHA256)
	if filepath.Dir(res.Path) != filepath.Clean(opts.Dir) {
		fmt.Fprintf(stdout, "it is outside the models folder: set model = %q in the config (lore config) to use it\n", res.Path)
		return nil
	}
	if err := models.SetDefault(opts.Dir, filepath.Base(res.Path)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is now the default model\n", filepath.Base(res.Path))
	return nil
}

// runModelRm implements lore model rm.
func runModelRm(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore model rm", modelRmUsage, stderr)
	name, err := parseWithArg(fs, args, "NAME")
	if err != nil {
		return err
	}
	removed, err := models.Remove(models.Dir(), name)
	for _, p := range removed {
		fmt.Fprintf(stdout, "removed %s\n", p)
	}
	return err
}

// runModelUse implements lore model use.
func runModelUse(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore model use", modelUseUsage, stderr)
	name, err := parseWithArg(fs, args, "NAME")
	if err != nil {
		return err
	}
	if !strings.EqualFold(filepath.Ext(name), ".gguf") {
		name += ".gguf"
	}
	if err := models.SetDefault(models.Dir(), name); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is now the default model\n", name)
	return nil
}

// recommendedJSON is one row of lore model ls --recommended --json.
type recommendedJSON struct {
	models.Recommended
	Ref             string `json:"ref"`
	WeightsBytes    int64  `json:"weights_bytes"`
	KVCacheType     string `json:"kv_cache_type"`
	KVBytesPerToken int64  `json:"kv_bytes_per_token"`
	MemoryBytes     int64  `json:"memory_bytes"`
	// ContextFits is the largest context, in tokens, the daemon's memory
	// check accepts in MemoryBytes: the weights, the KV cache of the context
	// and of the concurrent questions' room, and a 1 GiB reserve (0: not
	// even 2048 tokens fit).
	ContextFits int64 `json:"context_fits"`
}

func runModelRecommended(stdout io.Writer, memFlag, kvType string, asJSON bool) error {
	var mem int64
	var err error
	if memFlag == "" {
		if mem, err = models.AvailableMemory(); err != nil {
			return err
		}
	} else if mem, err = bytesize.Parse(memFlag); err != nil || mem == 0 {
		return cmdline.UsageErr("--memory: %q is not a positive size", memFlag)
	}
	if _, _, err := models.KVElementBytes(kvType); err != nil {
		return cmdline.UsageErr("--kv-cache-type: %v", err)
	}
	var rows []recommendedJSON
	for _, r := range models.RecommendedModels {
		rows = append(rows, recommendedJSON{Recommended: r, Ref: r.Ref(), WeightsBytes: r.DownloadBytes, KVCacheType: kvType,
			KVBytesPerToken: r.KVBytesPerToken(kvType), MemoryBytes: mem,
			ContextFits: int64(engine.ContextThatFits(r.DownloadBytes, r.KVBytesPerToken(kvType), mem, r.TrainContext))})
	}
	if asJSON {
		return writeJSON(stdout, rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME\tDOWNLOAD/RAM\tKV/TOKEN (%s)\tCONTEXT IN %s\tMODEL\n", kvType, bytesize.Format(mem))
	for _, r := range rows {
		fits := "does not fit"
		if r.ContextFits > 0 {
			fits = fmt.Sprintf("%d tokens", r.ContextFits)
			if r.ContextFits == int64(r.TrainContext) {
				fits += " (all)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, bytesize.Format(r.DownloadBytes), bytesize.Format(r.KVBytesPerToken), fits, r.Title)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nlore model pull NAME downloads one from Hugging Face and makes it the default:")
	for _, r := range rows {
		fmt.Fprintf(stdout, "  lore model pull %-16s # %s\n", r.Name, r.Ref)
	}
	return nil
}

// pullBar draws bytes, percent and speed, at most ten times a second.
type pullBar struct {
	mu    sync.Mutex
	line  *cmdline.Progress
	start time.Time
	first int64 // bytes present when the transfer (re)started
	began bool
	last  time.Time
}

func (b *pullBar) update(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if !b.began {
		b.began, b.first, b.start = true, done, now
	}
	if done < b.first { // restarted from zero
		b.first, b.start = done, now
	}
	if now.Sub(b.last) < 100*time.Millisecond && done != total {
		return
	}
	b.last = now
	speed := ""
	if el := now.Sub(b.start).Seconds(); el > 0.2 {
		rate := float64(done-b.first) / el
		speed = fmt.Sprintf(", %s/s", bytesize.Format(int64(rate)))
		if total > done && rate > 0 {
			speed += ", " + cmdline.Seconds(time.Duration(float64(total-done)/rate*float64(time.Second))) + " left"
		}
	}
	if total > 0 {
		b.line.Printf("%s %s / %s (%d%%%s)", bar(int(done>>10), int(total>>10), 30), bytesize.Format(done), bytesize.Format(total), 100*done/total, speed)
	} else {
		b.line.Printf("%s%s", bytesize.Format(done), speed)
	}
}

// runModelLs implements lore model ls.
func runModelLs(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore model ls", modelLsUsage, stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	recommended := fs.Bool("recommended", false, "list the recommended models instead")
	memFlag := fs.String("memory", "", "with --recommended: memory to fit (default: the available memory)")
	kvType := fs.String("kv-cache-type", "f16", "with --recommended: KV cache type (f16, q8_0, q4_0)")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cmdline.UsageErr("unexpected arguments %q", fs.Args())
	}
	if *recommended {
		return runModelRecommended(stdout, *memFlag, *kvType, *asJSON)
	}
	dir := models.Dir()
	list, err := models.List(dir)
	if err != nil {
		return err
	}
	def := models.Default()
	if *asJSON {
		return writeJSON(stdout, struct {
			Dir     string        `json:"dir"`
			Default string        `json:"default"` // the default model's path (it may not exist)
			Models  []models.Info `json:"models"`
		}{dir, def, list})
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no GGUF models in %s\nlore model ls --recommended lists models to pull (lore model pull NAME); lore model synth writes a random-weight test model\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tSIZE\tARCH\tPARAMS\tEXPERTS\tCONTEXT")
	for _, m := range list {
		if m.Path == def {
			m.File = "* " + m.File
		} else {
			m.File = "  " + m.File
		}
		if m.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\t(unreadable: %s)\t\t\t\n", m.File, bytesize.Format(m.Size), m.Err)
			continue
		}
		experts := "-"
		if m.Experts > 0 {
			experts = fmt.Sprintf("%d (%d used)", m.Experts, m.ExpertsUsed)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", m.File, bytesize.Format(m.Size), m.Architecture, humanCount(m.Params), experts, m.ContextLength)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "(in %s)\n", dir)
	return nil
}

// modelInfoJSON is lore model info --json.
type modelInfoJSON struct {
	models.Info
	MemoryBytes int64 `json:"memory_bytes"`
	// TokensInMemory is how many tokens of f16 KV cache fit in MemoryBytes.
	TokensInMemory int64     `json:"tokens_in_memory"`
	Repo           *repoSize `json:"repo,omitempty"`
}

type repoSize struct {
	Root       string `json:"root"`
	Files      int    `json:"files"`
	PackTokens int64  `json:"pack_tokens"` // estimated
	KVBytes    int64  `json:"kv_bytes"`
	FitsMemory bool   `json:"fits_memory"`
	// FitsContext: the pack fits the model's trained context.
	FitsContext bool `json:"fits_context"`
}

// runModelInfo implements lore model info.
func runModelInfo(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore model info", modelInfoUsage, stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	memFlag := fs.String("memory", "8GiB", "memory budget for the KV cache")
	repo := fs.String("repo", "", "also size this repository's pack")
	file, err := parseWithArg(fs, args, "FILE")
	if err != nil {
		return err
	}
	mem, err := bytesize.Parse(*memFlag)
	if err == nil && mem == 0 {
		err = fmt.Errorf("%q is not a positive size", *memFlag)
	}
	if err != nil {
		return cmdline.UsageErr("--memory: %v", err)
	}
	path := file
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !strings.ContainsRune(file, filepath.Separator) {
		if p := filepath.Join(models.Dir(), file); fileExists(p) {
			path = p
		}
	}
	info, err := models.Describe(path)
	if err != nil {
		return err
	}
	if info.Err != "" {
		return errors.New(info.Err)
	}
	doc := modelInfoJSON{Info: info, MemoryBytes: mem, TokensInMemory: info.TokensIn(mem)}
	if *repo != "" {
		root, err := config.FindRoot(*repo)
		if err != nil {
			return err
		}
		ctx, cancel := cmdline.SignalContext()
		defer cancel()
		res, err := scan.Scan(ctx, root, scan.Options{})
		if err != nil {
			return err
		}
		p := pack.Build(res, pack.Options{Count: ingest.EstimateTokens})
		var tokens int64
		for _, s := range p.Segments {
			tokens += int64(ingest.EstimateTokens(s.Text))
		}
		rs := &repoSize{Root: root, Files: len(res.Files), PackTokens: tokens, KVBytes: tokens * info.KVBytesPerToken}
		rs.FitsMemory = info.KVBytesPerToken > 0 && rs.KVBytes <= mem
		rs.FitsContext = info.ContextLength <= 0 || tokens <= int64(info.ContextLength)
		doc.Repo = rs
	}
	if *asJSON {
		return writeJSON(stdout, doc)
	}
	w := stdout
	fmt.Fprintf(w, "file           %s (%s)\n", info.Path, bytesize.Format(info.Size))
	if info.Name != "" {
		fmt.Fprintf(w, "name           %s\n", info.Name)
	}
	fmt.Fprintf(w, "architecture   %s\n", info.Architecture)
	if info.Params > 0 {
		fmt.Fprintf(w, "parameters     %s\n", humanCount(info.Params))
	}
	if info.Experts > 0 {
		fmt.Fprintf(w, "experts        %d, %d used per token\n", info.Experts, info.ExpertsUsed)
	}
	fmt.Fprintf(w, "context        %d tokens\n", info.ContextLength)
	fmt.Fprintf(w, "layers         %d, embedding %d, heads %d (KV %d), head dim %d/%d\n", info.Layers, info.Embedding, info.Heads, info.HeadsKV, info.KeyLength, info.ValueLength)
	if info.KVBytesPerToken > 0 {
		fmt.Fprintf(w, "KV cache       %s per token at f16\n", bytesize.Format(info.KVBytesPerToken))
		fmt.Fprintf(w, "in %-11s %d tokens\n", bytesize.Format(mem), doc.TokensInMemory)
	} else {
		fmt.Fprintf(w, "KV cache       unknown (the header lacks the attention shape)\n")
	}
	if r := doc.Repo; r != nil {
		verdict := "fits"
		switch {
		case !r.FitsContext:
			verdict = "does not fit the model's context"
		case !r.FitsMemory:
			verdict = "does not fit in " + bytesize.Format(mem)
		}
		fmt.Fprintf(w, "repository     %s: %d files, about %d pack tokens, %s of KV cache: %s\n", r.Root, r.Files, r.PackTokens, bytesize.Format(r.KVBytes), verdict)
	}
	return nil
}

// parseWithArg parses flags with exactly one positional argument, accepted
// before or after them.
func parseWithArg(fs *flag.FlagSet, args []string, name string) (string, error) {
	var arg string
	rest := args
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		arg, rest = rest[0], rest[1:]
	}
	if err := cmdline.Parse(fs, rest); err != nil {
		return "", err
	}
	if arg == "" && fs.NArg() > 0 {
		arg = fs.Arg(0)
		if err := cmdline.Parse(fs, fs.Args()[1:]); err != nil {
			return "", err
		}
	}
	if fs.NArg() > 0 {
		return "", cmdline.UsageErr("unexpected arguments %q", fs.Args())
	}
	if arg == "" {
		return "", cmdline.UsageErr("missing %s", name)
	}
	return arg, nil
}

func humanCount(n uint64) string {
	switch {
	case n == 0:
		return "-"
	case n >= 1e9:
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return strconv.FormatUint(n, 10)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
