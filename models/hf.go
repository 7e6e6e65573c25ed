package models

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"strings"
)

// HFScheme starts a Hugging Face shorthand: hf:ORG/REPO/FILE.gguf, or
// hf:ORG/REPO@REVISION/PATH/FILE.gguf for another branch, tag or commit.
const HFScheme = "hf:"

// Environment variables of the Hugging Face shorthand. They are the ones
// huggingface_hub reads, so a machine set up for it works as is.
const (
	// EnvHFToken is the access token sent (as a bearer token, to the
	// Hugging Face host only) for gated or private repositories.
	EnvHFToken = "HF_TOKEN"
	// EnvHFEndpoint replaces the Hugging Face base URL (a mirror, or a
	// loopback server in tests).
	EnvHFEndpoint = "HF_ENDPOINT"
)

// DefaultHFEndpoint is Hugging Face's base URL.
const DefaultHFEndpoint = "https://huggingface.co"

// HFSource is a download that a pull reference resolved to.
type HFSource struct {
	URL  string // the file's resolve URL
	File string // the file name it is saved under
	// Token is HF_TOKEN's value for a Hugging Face reference, to be sent
	// as a bearer token; never printed.
	Token string
}

// ResolvePull turns what `lore model pull` was given into a download: an
// http(s) URL as is; hf:ORG/REPO[@REV]/PATH into the file's resolve URL on
// HF_ENDPOINT (default Hugging Face) with HF_TOKEN; a recommended model's
// short name into its hf: reference.
func ResolvePull(ref string) (HFSource, error) {
	if r, ok := FindRecommended(ref); ok {
		ref = r.Ref()
	}
	if !strings.HasPrefix(ref, HFScheme) {
		if !strings.Contains(ref, "://") {
			return HFSource{}, fmt.Errorf("%q is neither a URL, an hf:ORG/REPO/FILE.gguf reference nor a recommended model (%s; see lore model ls --recommended)", ref, RecommendedNames())
		}
		name, err := FileName(ref)
		if err != nil {
			return HFSource{}, err
		}
		return HFSource{URL: ref, File: name}, nil
	}
	u, err := HFURL(os.Getenv(EnvHFEndpoint), ref)
	if err != nil {
		return HFSource{}, err
	}
	return HFSource{URL: u, File: path.Base(ref), Token: strings.TrimSpace(os.Getenv(EnvHFToken))}, nil
}

// HFURL maps hf:ORG/REPO[@REV]/PATH to ENDPOINT/ORG/REPO/resolve/REV/PATH
// (REV default main; endpoint "" is DefaultHFEndpoint).
func HFURL(endpoint, ref string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("bad Hugging Face reference %q: %s (want hf:ORG/REPO/FILE.gguf, e.g. %s)", ref, why, RecommendedModels[0].Ref())
	}
	rest, ok := strings.CutPrefix(ref, HFScheme)
	if !ok {
		return "", bad("it does not start with " + HFScheme)
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 {
		return "", bad("it needs an organization, a repository and a file")
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return "", bad("empty or relative path element")
		}
	}
	org, repo, file := parts[0], parts[1], parts[2:]
	rev := "main"
	if i := strings.IndexByte(repo, '@'); i >= 0 {
		repo, rev = repo[:i], repo[i+1:]
		if repo == "" || rev == "" {
			return "", bad("empty repository or revision around @")
		}
	}
	if !strings.EqualFold(path.Ext(file[len(file)-1]), ".gguf") {
		return "", bad("the file is not a .gguf file")
	}
	if endpoint == "" {
		endpoint = DefaultHFEndpoint
	}
	base, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", fmt.Errorf("%s=%q is not an http(s) URL", EnvHFEndpoint, endpoint)
	}
	segs := append([]string{org, repo, "resolve", rev}, file...)
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return base.String() + "/" + strings.Join(segs, "/"), nil
}
