package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"lore/cache"
	"lore/config"
	"lore/engine"
	"lore/ingest"
	"lore/ingest/history"
	"lore/ingest/pack"
	"lore/ingest/scan"
	"lore/ingest/syntax"
	"lore/internal/cmdline"
)

const packUsage = `Usage: lore pack [--repo DIR] [--format xml|markdown|json] [--budget TOKENS] [--compress] [--stats] [-o FILE] [--model FILE]

Packs a repository into one document for a language model, the way the lore
daemon lays it out: a preamble, the files coldest first (by git history,
uncommitted changes last), then a map of the definitions. Files are chosen as
git sees them (.gitignore at every level, .git/info/exclude, the global
excludes file, .loreignore); binary, oversized, vendored, generated and
secret-holding files are left out and listed with --stats or in JSON.

With --budget, the most important files (ranked by references between
files) stay in full and the others are reduced to their signatures
(skeletons) or to their map entry. Tokens are estimated (about 3.2 bytes per
token on code), or counted exactly with --model's tokenizer.

The xml format is exactly the text the daemon prefills: each file between a
line <file path="..." lang="..."> and a line </file>, where a line of the file
that would begin with <file, </file or another tag of the format (skeleton,
map, deleted, selection, question, answer) gets a backslash before its <, so
that no file can end its section or forge another's. The json format's texts
are the same; the markdown format shows files as they are, in backtick fences
longer than any run of backticks they hold.
`

// packMemoryLimit is lore pack's soft Go heap limit (GOMEMLIMIT overrides it).
const packMemoryLimit = 200 << 20

type packJSON struct {
	Root        string           `json:"root"`
	TotalTokens int              `json:"total_tokens"`
	Counter     string           `json:"token_counter"`
	Segments    []packSegment    `json:"segments"`
	Excluded    []packExcluded   `json:"excluded"`
	Reduced     []ingest.Reduced `json:"reduced"`
}

type packSegment struct {
	Path   string `json:"path,omitempty"`
	Kind   string `json:"kind"`
	Lang   string `json:"lang,omitempty"`
	Tokens int    `json:"tokens"`
	Hash   string `json:"hash"`
	Chain  string `json:"chain"`
	Text   string `json:"text"`
}

type packExcluded struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func runPack(args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("lore pack", packUsage, stdout)
	format := fs.String("format", "xml", "output format: xml, markdown or json")
	budget := fs.Int("budget", 0, "token budget for the whole pack (0: no limit)")
	compress := fs.Bool("compress", false, "reduce every file with definitions to its signatures")
	stats := fs.Bool("stats", false, "print a summary to stderr")
	out := fs.StringP("output", "o", "", "write to FILE instead of stdout")
	model := fs.String("model", "", "count tokens with this GGUF model's tokenizer")
	repo := fs.String("repo", "", "repository (default: the current directory's)")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	dir := *repo
	switch {
	case fs.NArg() > 1:
		return cmdline.UsageErr("unexpected arguments %q (the repository is given with --repo)", fs.Args())
	case fs.NArg() == 1 && dir != "":
		return cmdline.UsageErr("the repository is given twice: --repo %s and %s", dir, fs.Arg(0))
	case fs.NArg() == 1:
		// lore pack DIR was the form before --repo; it still works.
		dir = fs.Arg(0)
		fmt.Fprintf(stderr, "note: `lore pack DIR` is deprecated: use `lore pack --repo %s`\n", dir)
	}
	switch *format {
	case "xml", "markdown", "json":
	default:
		return cmdline.UsageErr("unknown --format %q: use xml, markdown or json", *format)
	}
	if *budget < 0 {
		return cmdline.UsageErr("--budget must not be negative")
	}
	root, err := config.FindRoot(dir)
	if err != nil {
		return err
	}
	ctx, cancel := cmdline.SignalContext()
	defer cancel()
	prog := cmdline.NewProgress(stderr)
	defer prog.Clear()
	start := time.Now()
	if os.Getenv("GOMEMLIMIT") == "" {
		// The file contents and the pack's text are both alive while the
		// pack is built; a soft limit makes the collector return the
		// garbage in between instead of doubling the heap (GOROOT/src:
		// 400 MB peak without it, 290 MB with it, same speed).
		debug.SetMemoryLimit(packMemoryLimit)
	}

	// The parse and heat caches are shared with the daemon; when it holds
	// the store, packing works without them.
	var kv ingest.KV
	if store, err := cache.Open(config.RepoStateDir(root)); err == nil {
		defer store.Close()
		kv = store
	}
	count, counter := ingest.EstimateTokens, "estimate"
	if *model != "" {
		eng, err := engine.Open(engine.Config{ModelPath: *model, ContextSize: 512, Sequences: 1})
		if err != nil {
			return err
		}
		defer eng.Close()
		count = func(s string) int { return len(eng.Tokenize(s)) }
		counter = eng.Info().Name
	}

	cfg, err := cmdline.Settings(fs, root)
	if err != nil {
		return err
	}
	so := scanOptions(cfg)
	so.Cache = kv
	scanStart := time.Now()
	so.Progress = func(done, total int) {
		prog.Printf("%s", cmdline.ProgressLine("reading and parsing", int64(done), int64(total), "files", done, time.Since(scanStart)))
	}
	prog.Printf("scanning %s", root)
	res, err := scan.Scan(ctx, root, so)
	if err != nil {
		return err
	}
	prog.Printf("reading git history")
	heat, err := history.LoadHeat(ctx, root, history.HeatOptions{Cache: kv})
	if err != nil {
		return err
	}
	prog.Printf("packing %d files", len(res.Files))
	p := pack.Build(res, pack.Options{Order: heat.Order, Budget: *budget, Count: count, Compress: *compress})

	doc := packJSON{Root: root, Counter: counter, Excluded: []packExcluded{}, Reduced: p.Reduced}
	if doc.Reduced == nil {
		doc.Reduced = []ingest.Reduced{}
	}
	counted := *format == "json" || *stats // the xml text alone needs no counts
	for _, s := range p.Segments {
		n := 0
		if counted {
			n = count(s.Text)
		}
		doc.TotalTokens += n
		doc.Segments = append(doc.Segments, packSegment{Path: s.Path, Kind: string(s.Kind), Lang: s.Lang, Tokens: n, Hash: s.Hash, Chain: s.Chain, Text: s.Text})
	}
	for _, s := range p.Skipped {
		doc.Excluded = append(doc.Excluded, packExcluded{Path: s.Path, Reason: s.Reason})
	}
	prog.Clear()

	w := stdout
	var f *os.File
	if *out != "" {
		if st, err := os.Stat(*out); err == nil && !st.Mode().IsRegular() {
			// A device or a pipe (/dev/null, /dev/stdout): write to it, never
			// replace it.
			dev, err := os.OpenFile(*out, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer dev.Close()
			w = dev
		} else {
			// A regular file is replaced whole, so a failed run leaves the
			// old one intact.
			if f, err = os.CreateTemp(filepath.Dir(*out), ".lore-pack-*"); err != nil {
				return err
			}
			defer os.Remove(f.Name())
			w = f
		}
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(doc)
	case "markdown":
		err = writeMarkdown(w, res, p)
	default:
		for _, s := range p.Segments {
			if _, err = io.WriteString(w, s.Text); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Chmod(f.Name(), 0o644); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), *out); err != nil {
			return err
		}
	}
	if *stats {
		printPackStats(stderr, &doc, time.Since(start))
	}
	return nil
}

// writeMarkdown renders the pack for people: one heading per file, its text
// fenced with enough backticks that the content cannot close the fence.
func writeMarkdown(w io.Writer, res *scan.Result, p *ingest.Pack) error {
	files := make(map[string]*ingest.File, len(res.Files))
	for i := range res.Files {
		files[res.Files[i].Path] = &res.Files[i]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", filepath.Base(p.Root))
	for _, s := range p.Segments {
		switch s.Kind {
		case ingest.KindPreamble:
			continue
		case ingest.KindFile:
			f := files[s.Path]
			fmt.Fprintf(&b, "## %s\n\n%s\n", s.Path, fence(string(f.Content), f.Lang))
		case ingest.KindSkeleton:
			fmt.Fprintf(&b, "## %s (signatures only)\n\n%s\n", s.Path, fence(syntax.Skeleton(files[s.Path]), ""))
		case ingest.KindMap:
			// People read the map as it is: its fencing is for the model.
			body := ingest.Unfence(strings.TrimSuffix(strings.TrimPrefix(s.Text, "<map>\n"), "</map>\n"))
			fmt.Fprintf(&b, "## Map of definitions\n\n%s\n", fence(body, ""))
		}
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		b.Reset()
	}
	return nil
}

func fence(text, lang string) string {
	ticks := "```"
	for strings.Contains(text, ticks) {
		ticks += "`"
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return ticks + lang + "\n" + text + ticks + "\n"
}

func printPackStats(w io.Writer, doc *packJSON, took time.Duration) {
	files, skeletons := 0, 0
	type sized struct {
		path   string
		tokens int
	}
	var largest []sized
	for _, s := range doc.Segments {
		switch s.Kind {
		case string(ingest.KindFile):
			files++
			largest = append(largest, sized{s.Path, s.Tokens})
		case string(ingest.KindSkeleton):
			skeletons++
		}
	}
	sort.Slice(largest, func(i, j int) bool { return largest[i].tokens > largest[j].tokens })
	fmt.Fprintf(w, "%d tokens (%s) in %d segments: %d files in full, %d skeletons, %d only in the map; %d excluded; %s\n",
		doc.TotalTokens, doc.Counter, len(doc.Segments), files, skeletons, len(doc.Reduced)-skeletons, len(doc.Excluded), took.Round(time.Millisecond))
	for _, l := range largest[:min(5, len(largest))] {
		fmt.Fprintf(w, "  %8d  %s\n", l.tokens, l.path)
	}
	reasons := map[string]int{}
	for _, e := range doc.Excluded {
		reason, _, _ := strings.Cut(e.Reason, " (")
		reason, _, _ = strings.Cut(reason, ":")
		reasons[reason]++
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  excluded %-22s %d\n", k, reasons[k])
	}
}
