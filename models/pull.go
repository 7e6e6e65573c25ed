package models

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lore/models/gguf"
)

// PartialSuffix ends the name of a download in progress, kept for resuming.
const PartialSuffix = ".partial"

// PullOptions configure Pull.
type PullOptions struct {
	URL string
	// Dest is the final path. Empty: Dir joined with the URL's last path
	// element.
	Dest string
	Dir  string // default Dir()
	// SHA256 is the expected hex digest; empty skips the check.
	SHA256 string
	// Force replaces an existing Dest.
	Force bool
	// Retries is how many times an interrupted transfer is resumed
	// automatically before Pull gives up (keeping the partial file).
	Retries int
	// RetryDelay is the pause before the first retry, doubled for each
	// next one; default 1s.
	RetryDelay time.Duration
	Client     *http.Client // default http.DefaultClient
	// Token, if set, is sent as "Authorization: Bearer TOKEN" (Hugging
	// Face's HF_TOKEN). Go's client drops it on a redirect to another host
	// (Hugging Face redirects downloads to its CDN); it is never printed.
	Token string
	// Progress, if set, is called as bytes arrive: done of total (total is
	// -1 when the server does not say), including resumed bytes.
	Progress func(done, total int64)
}

// PullResult describes a completed download.
type PullResult struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Resumed bool   `json:"resumed"` // part of the file came from an earlier attempt
}

// ChecksumError reports a download whose digest differs from the expected one.
type ChecksumError struct {
	URL, Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("sha256 mismatch for %s: expected %s, got %s (the download was deleted)", e.URL, e.Want, e.Got)
}

// StatusError reports an HTTP response other than the file.
type StatusError struct {
	URL    string
	Code   int
	Status string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("GET %s: HTTP %s", e.URL, e.Status)
	if e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden {
		msg += " (a gated or private Hugging Face repository needs an access token in " + EnvHFToken + ", and its licence accepted on the model's page)"
	}
	return msg
}

// interruptedError is a transfer that ended before the whole body arrived;
// the partial file is kept.
type interruptedError struct {
	done, total int64
	err         error
}

func (e *interruptedError) Error() string {
	t := "?"
	if e.total >= 0 {
		t = strconv.FormatInt(e.total, 10)
	}
	return fmt.Sprintf("transfer interrupted after %d of %s bytes (%v); run the command again to resume", e.done, t, e.err)
}

func (e *interruptedError) Unwrap() error { return e.err }

// FileName is the file name a URL gives: its last path element, unescaped.
func FileName(rawURL string) (string, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return "", err
	}
	name := path.Base(u.Path)
	if name == "" || name == "." || name == "/" || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("cannot take a file name from %s; name one with -o", rawURL)
	}
	return name, nil
}

func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %v", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("bad URL %q: only http and https are supported", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("bad URL %q: no host", rawURL)
	}
	return u, nil
}

// Pull downloads a GGUF file. The bytes go to Dest+".partial", which a
// later Pull resumes with an HTTP Range request (starting over when the
// server ignores it). When the transfer completes, the file must start with
// the GGUF magic and, with SHA256 set, match the digest; otherwise the
// partial file is deleted. It is then synced and renamed to Dest. When ctx
// is cancelled or the connection drops, the partial file is kept.
func Pull(ctx context.Context, opts PullOptions) (PullResult, error) {
	if _, err := parseURL(opts.URL); err != nil {
		return PullResult{}, err
	}
	want := strings.ToLower(strings.TrimSpace(opts.SHA256))
	if want != "" {
		if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
			return PullResult{}, fmt.Errorf("bad sha256 %q: want 64 hex digits", opts.SHA256)
		}
	}
	dest := opts.Dest
	if dest == "" {
		name, err := FileName(opts.URL)
		if err != nil {
			return PullResult{}, err
		}
		dir := opts.Dir
		if dir == "" {
			dir = Dir()
		}
		dest = filepath.Join(dir, name)
	}
	if _, err := os.Stat(dest); err == nil && !opts.Force {
		return PullResult{}, fmt.Errorf("%s exists (use --force to replace it)", dest)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return PullResult{}, err
	}
	p := &puller{opts: opts, dest: dest, partial: dest + PartialSuffix, client: opts.Client}
	if p.client == nil {
		p.client = http.DefaultClient
	}
	delay := opts.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	var err error
	for attempt := 0; ; attempt++ {
		err = p.attempt(ctx)
		var ie *interruptedError
		if err == nil || ctx.Err() != nil || !errors.As(err, &ie) || attempt >= opts.Retries {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay *= 2
	}
	if err != nil {
		if ctx.Err() != nil {
			return PullResult{}, fmt.Errorf("download stopped; %s is kept for resuming: %w", p.partial, ctx.Err())
		}
		return PullResult{}, err
	}
	return p.finish(want)
}

type puller struct {
	opts          PullOptions
	dest, partial string
	client        *http.Client
	h             hash.Hash
	size          int64 // bytes in the partial file, all hashed into h
	resumed       bool
}

// attempt makes one request and appends what arrives to the partial file.
// It returns nil once the whole body is in.
func (p *puller) attempt(ctx context.Context) error {
	// Hash what an earlier attempt (or run) left.
	if p.h == nil {
		p.h = sha256.New()
		p.size = 0
		if f, err := os.Open(p.partial); err == nil {
			n, err := io.Copy(p.h, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("reading %s: %w", p.partial, err)
			}
			p.size = n
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.opts.URL, nil)
	if err != nil {
		return fmt.Errorf("bad URL %q: %v", p.opts.URL, err)
	}
	if p.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.opts.Token)
	}
	if p.size > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", p.size))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &interruptedError{p.size, -1, err}
	}
	defer resp.Body.Close()

	total := int64(-1)
	switch {
	case resp.StatusCode == http.StatusPartialContent && p.size > 0:
		start, end, length, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != p.size {
			return p.restartf("server sent range %q for bytes=%d-", resp.Header.Get("Content-Range"), p.size)
		}
		if length >= 0 {
			total = length
		} else if end >= 0 {
			total = end + 1
		}
		p.resumed = true
	case resp.StatusCode == http.StatusOK:
		// A full body: the server ignored Range (or none was sent).
		if err := p.reset(); err != nil {
			return err
		}
		total = resp.ContentLength
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && p.size > 0:
		_, _, length, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if ok && length == p.size {
			return nil // the partial file is already complete
		}
		return p.restartf("server refused the range bytes=%d-", p.size)
	default:
		return &StatusError{URL: p.opts.URL, Code: resp.StatusCode, Status: resp.Status}
	}

	body := bufio.NewReaderSize(resp.Body, 1<<20)
	if p.size == 0 {
		head, err := body.Peek(len(gguf.Magic))
		if (err == nil && string(head) != gguf.Magic) || errors.Is(err, io.EOF) {
			p.remove()
			return fmt.Errorf("%s is not a GGUF file (it starts with %q, not %q)", p.opts.URL, head, gguf.Magic)
		}
	}
	f, err := os.OpenFile(p.partial, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if p.opts.Progress != nil {
		p.opts.Progress(p.size, total)
	}
	buf := make([]byte, 1<<20)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				if errors.Is(err, syscall.ENOSPC) {
					return fmt.Errorf("disk full writing %s (%d bytes so far; free space and run again to resume): %w", p.partial, p.size, err)
				}
				return fmt.Errorf("writing %s: %w", p.partial, err)
			}
			p.h.Write(buf[:n])
			p.size += int64(n)
			if p.opts.Progress != nil {
				p.opts.Progress(p.size, total)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &interruptedError{p.size, total, rerr}
		}
	}
	if total >= 0 && p.size != total {
		return &interruptedError{p.size, total, io.ErrUnexpectedEOF}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", p.partial, err)
	}
	return f.Close()
}

// restartf drops the partial file so that the next attempt starts over, and
// reports why as an interrupted transfer (which Pull retries).
func (p *puller) restartf(format string, a ...any) error {
	if err := p.reset(); err != nil {
		return err
	}
	return &interruptedError{0, -1, fmt.Errorf(format+"; starting over", a...)}
}

func (p *puller) reset() error {
	p.h = sha256.New()
	p.size = 0
	p.resumed = false
	if err := os.Remove(p.partial); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (p *puller) remove() {
	os.Remove(p.partial)
	p.h = nil
	p.size = 0
}

// finish checks the completed partial file and moves it into place.
func (p *puller) finish(want string) (PullResult, error) {
	got := hex.EncodeToString(p.h.Sum(nil))
	if want != "" && got != want {
		p.remove()
		return PullResult{}, &ChecksumError{URL: p.opts.URL, Want: want, Got: got}
	}
	f, err := os.Open(p.partial)
	if err != nil {
		return PullResult{}, err
	}
	var head [4]byte
	_, err = io.ReadFull(f, head[:])
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil || string(head[:]) != gguf.Magic {
		p.remove()
		return PullResult{}, fmt.Errorf("%s is not a GGUF file (it starts with %q, not %q); the download was deleted", p.opts.URL, head[:], gguf.Magic)
	}
	if err := os.Rename(p.partial, p.dest); err != nil {
		return PullResult{}, err
	}
	if d, err := os.Open(filepath.Dir(p.dest)); err == nil {
		d.Sync()
		d.Close()
	}
	return PullResult{Path: p.dest, Size: p.size, SHA256: got, Resumed: p.resumed}, nil
}

// parseContentRange parses "bytes START-END/LENGTH" (LENGTH may be "*") or
// "bytes */LENGTH"; missing numbers are -1.
func parseContentRange(s string) (start, end, length int64, ok bool) {
	start, end, length = -1, -1, -1
	s, found := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !found {
		return
	}
	rng, l, found := strings.Cut(s, "/")
	if !found {
		return
	}
	if l != "*" {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			return
		}
		length = n
	}
	if rng == "*" {
		return start, end, length, true
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return
	}
	var err1, err2 error
	start, err1 = strconv.ParseInt(a, 10, 64)
	end, err2 = strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		start, end = -1, -1
		return
	}
	return start, end, length, true
}
