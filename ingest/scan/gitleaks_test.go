package scan

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const lowerAlpha = "abcdefghijklmnopqrstuvwxyz"

// gitleaksCases are credentials of kinds that lore's own rules
// (secrets.go, secret_assign.go) do not know, each in a line that gives the
// name-based rule nothing to go on; gitleaks' rule set must catch them.
// Like secretCases they are assembled at run time.
func gitleaksCases() []struct{ name, path, content, kind, secret string } {
	g := newFake(7)
	type c = struct{ name, path, content, kind, secret string }
	var out []c
	add := func(name, path, prefix, secret, suffix, rule string) {
		out = append(out, c{name, path, prefix + secret + suffix, "gitleaks " + rule, secret})
	}
	add("GitLab personal access token", "scripts/clone.sh", "git clone https://oauth2:", "gl"+"pat-"+g.str(20, alnum), "@gitlab.com/group/app.git\n", "gitlab-pat")
	add("npm token in code", "publish.js", "fetch(url, { headers: { authorization: 'Bearer ", "np"+"m_"+g.str(36, alnum), "' } });\n", "npm-access-token")
	add("Twilio API key", "sms.py", "client = Client(\"", "S"+"K"+g.str(32, hexDigits), "\", account_sid)\n", "twilio-api-key")
	add("SendGrid key", "mail.rb", "SendGrid::API.new(api_key: '", "S"+"G."+g.str(22, alnum)+"."+g.str(43, alnum), "')\n", "sendgrid-api-token")
	add("Hugging Face token", "download.sh", "huggingface-cli login --token ", "h"+"f_"+g.str(34, lowerAlpha+"ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "\n", "huggingface-access-token")
	add("Databricks token", "job.py", "headers = {\"Authorization\": \"Bearer ", "da"+"pi"+g.str(32, hexDigits), "\"}\n", "databricks-api-token")
	add("DigitalOcean token", "Makefile", "\tdoctl auth init -t ", "do"+"p_v1_"+g.str(64, hexDigits), "\n", "digitalocean-pat")
	add("Shopify access token", "shop.ts", "const client = new Shopify({ accessToken: `", "sh"+"pat_"+g.str(32, hexDigits), "` });\n", "shopify-access-token")
	add("Postman API key", "ci/newman.sh", "newman run $COLLECTION --env-var x=", "PM"+"AK-"+g.str(24, hexDigits)+"-"+g.str(34, hexDigits), "\n", "postman-api-token")
	add("Linear API key", "linear.go", "req.Header.Set(\"Authorization\", \"", "lin"+"_api_"+g.str(40, alnum), "\")\n", "linear-api-key")
	add("PyPI upload token outside .pypirc", "release.sh", "twine upload -u __token__ -p ", "py"+"pi-AgEIcHlwaS5vcmc"+g.str(60, alnum), " dist/*\n", "pypi-upload-token")
	return out
}

func TestGitleaksRulesCompile(t *testing.T) {
	set, err := gitleaksRules()
	if err != nil {
		t.Fatal(err)
	}
	// v8.30.1 has 222 rules; two are left out on purpose.
	if len(set.rules) < 200 {
		t.Errorf("%d gitleaks rules compiled", len(set.rules))
	}
	for _, r := range set.rules {
		if gitleaksSkipped[r.id] {
			t.Errorf("rule %s should be skipped", r.id)
		}
	}
}

func TestGitleaksKinds(t *testing.T) {
	for _, c := range gitleaksCases() {
		kind, ok := DetectSecret(c.path, []byte(c.content))
		if !ok || kind != c.kind {
			t.Errorf("%s: DetectSecret = %q, %v; want %q", c.name, kind, ok, c.kind)
		}
		// The same line with the credential's body replaced by a
		// placeholder is no secret.
		masked := strings.Replace(c.content, c.secret, c.secret[:len(c.secret)-8]+"xxxxxxxx", 1)
		if kind, ok := DetectSecret(c.path, []byte(masked)); ok {
			t.Errorf("%s masked: DetectSecret = %q", c.name, kind)
		}
	}
}

// TestFindSecrets plants credentials of every kind in one text and redacts
// the spans FindSecrets returns: nothing of them may be left, and nothing
// else may be touched.
func TestFindSecrets(t *testing.T) {
	var text strings.Builder
	var secrets []string
	for _, c := range gitleaksCases() {
		text.WriteString(c.content)
		secrets = append(secrets, c.secret)
	}
	g := newFake(11)
	key := g.pemKey("RSA")
	text.WriteString("var k = `" + key + "`\n")
	gh := "gh" + "p_" + g.str(36, alnum)
	text.WriteString("token: " + gh + "\n")
	pw := g.str(24, alnum)
	text.WriteString("const dbPassword = \"" + pw + "\"\n")
	text.WriteString("plain words stay\n")
	src := []byte(text.String())

	spans := FindSecrets("deploy/notes.go", src)
	var out bytes.Buffer
	last := 0
	kinds := map[string]bool{}
	for _, s := range spans {
		if s.Start < last || s.End <= s.Start || s.End > len(src) {
			t.Fatalf("bad span %+v after %d", s, last)
		}
		out.Write(src[last:s.Start])
		out.WriteString("[REDACTED]")
		last = s.End
		kinds[s.Kind] = true
	}
	out.Write(src[last:])
	red := out.String()
	for _, s := range append(secrets, gh, pw) {
		if strings.Contains(red, s) {
			t.Errorf("%q survived redaction", s)
		}
	}
	if strings.Contains(red, "PRIVATE"+" KEY") || !strings.Contains(red, "plain words stay") || !strings.Contains(red, "huggingface-cli login --token [REDACTED]") {
		t.Errorf("redacted text:\n%s", red)
	}
	for _, k := range []string{"private key", "GitHub token", "high-entropy value assigned to dbPassword", "gitleaks gitlab-pat"} {
		if !kinds[k] {
			t.Errorf("no span of kind %q (kinds %v)", k, kinds)
		}
	}
	if got := FindSecrets("a.txt", []byte("nothing to see here\n")); len(got) != 0 {
		t.Errorf("clean text: %v", got)
	}
}

func TestKeywordIndex(t *testing.T) {
	k := newKeywordIndex([]string{"glpat-", "sk", "x", "hf_", "abc"})
	type hit struct{ k, pos int }
	var hits []hit
	k.scan([]byte("token GLPAT-1 and Sk and hf sk"), func(i, pos int) { hits = append(hits, hit{i, pos}) })
	want := []hit{{0, 6}, {1, 18}, {1, 28}}
	if !slices.Equal(hits, want) {
		t.Errorf("hits %v, want %v", hits, want)
	}
	hits = nil
	k.scan([]byte("ax"), func(i, pos int) { hits = append(hits, hit{i, pos}) })
	if !slices.Equal(hits, []hit{{2, 1}}) {
		t.Errorf("one-byte keyword at the end: %v", hits)
	}
}

func TestLinesAround(t *testing.T) {
	text := "l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n"
	pos := strings.Index(text, "l3")
	s, e := linesAround(text, pos, 2, 6)
	if got := text[s:e]; got != "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\n" {
		t.Errorf("window %q", got)
	}
	s, e = linesAround(text, 1, 2, 1)
	if got := text[s:e]; got != "l0\nl1\n" {
		t.Errorf("at the start: %q", got)
	}
	s, e = linesAround(text, strings.Index(text, "l10"), 0, 6)
	if got := text[s:e]; got != "l10\n" {
		t.Errorf("at the end: %q", got)
	}
}

// TestGitleaksWindows: a finding far from the text's start and a rule that
// spans lines (curl's, up to five lines down) are found through windows as
// on the whole text.
func TestGitleaksWindows(t *testing.T) {
	g := newFake(21)
	filler := strings.Repeat("func f() { return os.Exit(1) } // task disk mask\n", 2000)
	tok := "gl" + "pat-" + g.str(20, alnum)
	text := filler + "x := \"" + tok + "\"\n" + filler
	spans := FindSecrets("a.go", []byte(text))
	if len(spans) != 1 || text[spans[0].Start:spans[0].End] != tok {
		t.Errorf("spans %v", spans)
	}
	user := "deploy:" + g.str(20, alnum)
	curl := filler + "curl https://api.internal/v1 \\\n  -X POST \\\n  -u \"" + user + "\" \\\n  -d @body.json\n"
	kind, ok := DetectSecret("deploy.sh", []byte(curl))
	if !ok || kind != "gitleaks curl-auth-user" {
		t.Errorf("curl over lines: %q, %v", kind, ok)
	}
}

// BenchmarkDetectSecretTree runs DetectSecret on every text file under
// $LORE_BENCH_SECRETS_DIR (default: GOROOT/src) with lore's own rules only
// and with gitleaks' rules after them, in one run:
//
//	go test -run - -bench DetectSecretTree -benchtime 3x ./ingest/scan/
func BenchmarkDetectSecretTree(b *testing.B) {
	dir := os.Getenv("LORE_BENCH_SECRETS_DIR")
	if dir == "" {
		dir = filepath.Join(runtime.GOROOT(), "src")
	}
	type file struct {
		path string
		body []byte
	}
	var files []file
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		body, err := os.ReadFile(p)
		if err == nil && len(body) <= 1<<20 && !IsBinary(body) {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, file{filepath.ToSlash(rel), body})
			total += int64(len(body))
		}
		return nil
	})
	if len(files) == 0 {
		b.Skipf("no files under %s", dir)
	}
	for _, on := range []bool{false, true} {
		name := "own"
		if on {
			name = "own+gitleaks"
		}
		b.Run(name, func(b *testing.B) {
			gitleaksOn = on
			defer func() { gitleaksOn = true }()
			b.SetBytes(total)
			found := 0
			for range b.N {
				found = 0
				for _, f := range files {
					if _, ok := DetectSecret(f.path, f.body); ok {
						found++
					}
				}
			}
			b.ReportMetric(float64(found), "secret-files")
		})
	}
}
