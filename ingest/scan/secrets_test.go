package scan

import (
	"encoding/base64"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The credentials in these tests are made up at run time from a seeded
// generator and split literals, so that no source file of the repository
// holds one: scanning lore itself must not flag its own tests, and neither
// should any other secret scanner.

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64        = alnum + "+/"
	hexDigits  = "0123456789abcdef"
)

// fakeGen makes random strings; each test seeds its own.
type fakeGen struct{ r *rand.Rand }

func newFake(seed uint64) *fakeGen { return &fakeGen{rand.New(rand.NewPCG(seed, 42))} }

func (g *fakeGen) str(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

// pemKey is a PEM block of the given type with a random body.
func (g *fakeGen) pemKey(typ string) string {
	var b strings.Builder
	if typ != "" {
		typ += " "
	}
	b.WriteString("-----BEGIN " + typ + "PRIVATE" + " KEY-----\n")
	for range 4 {
		b.WriteString(g.str(64, b64) + "\n")
	}
	b.WriteString(g.str(20, b64) + "==\n")
	b.WriteString("-----END " + typ + "PRIVATE" + " KEY-----\n")
	return b.String()
}

func (g *fakeGen) jwt() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc([]byte(`{"sub":"`+g.str(10, hexDigits)+`","name":"Jane Roe","iat":1700000000}`)) + "." +
		g.str(43, alnum+"-_")
}

// secretCases returns, for every rule, a file name, its content and the
// kind DetectSecret must report.
func secretCases() []struct{ name, path, content, kind string } {
	g := newFake(1)
	return []struct{ name, path, content, kind string }{
		{"pem rsa", "certs/server.txt", "key:\n" + g.pemKey("RSA"), "private key"},
		{"pem pkcs8", "k.txt", g.pemKey(""), "private key"},
		{"pem openssh", "deploy/key.txt", g.pemKey("OPENSSH"), "private key"},
		{"pem encrypted headers", "k.txt", strings.Replace(g.pemKey("RSA"), "KEY-----\n",
			"KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"+g.str(32, "0123456789ABCDEF")+"\n\n", 1), "private key"},
		{"pem in a Go string", "tls.go", "package tls\n\nconst key = \"" +
			strings.ReplaceAll(g.pemKey("EC"), "\n", `\n`) + "\"\n", "private key"},
		{"pem in a Go raw string", "tls.go", "package tls\n\nvar key = []byte(`" + g.pemKey("EC") + "`)\n", "private key"},
		{"aws access key id", "deploy.sh", "AWS_ACCESS_KEY_ID=" + "AK" + "IA" + g.str(16, upperAlnum) + "\n", "AWS access key id"},
		{"aws session key id", "conf.go", `id := "` + "AS" + "IA" + g.str(16, upperAlnum) + `"` + "\n", "AWS access key id"},
		{"aws secret access key", "credentials", "[default]\naws_secret_access_key = " + g.str(40, b64) + "\n", "AWS secret access key"},
		{"gcp service account", "sa.json", `{"type": "service_` + `account", "project_id": "p", "private_key_id": "` + g.str(40, hexDigits) +
			`", "private_key": "` + strings.ReplaceAll(g.pemKey(""), "\n", `\n`) + `"}`, "GCP service account key"},
		{"github classic", "ci.yml", "env:\n  GH: " + "gh" + "p_" + g.str(36, alnum) + "\n", "GitHub token"},
		{"github oauth", "a.py", `t = "` + "gh" + "o_" + g.str(36, alnum) + `"` + "\n", "GitHub token"},
		{"github server", "a.py", `t = "` + "gh" + "s_" + g.str(36, alnum) + `"` + "\n", "GitHub token"},
		{"github fine-grained", "a.js", `const t = '` + "github" + "_pat_" + g.str(22, alnum) + "_" + g.str(59, alnum) + "';\n", "GitHub token"},
		{"slack bot token", "bot.rb", `TOKEN = "` + "xo" + "xb-" + g.str(11, "0123456789") + "-" + g.str(12, "0123456789") + "-" + g.str(24, alnum) + `"` + "\n", "Slack token"},
		{"slack user token", "bot.rb", `t = "` + "xo" + "xp-" + g.str(11, "0123456789") + "-" + g.str(12, "0123456789") + "-" + g.str(32, hexDigits) + `"` + "\n", "Slack token"},
		{"slack webhook", "notify.sh", "curl -X POST https://hooks.slack" + ".com/services/T" + g.str(8, upperAlnum) + "/B" + g.str(10, upperAlnum) + "/" + g.str(24, alnum) + "\n", "Slack webhook"},
		{"stripe secret", "pay.php", `$k = '` + "sk" + "_live_" + g.str(24, alnum) + "';\n", "Stripe key"},
		{"stripe restricted", "pay.php", `$k = '` + "rk" + "_live_" + g.str(24, alnum) + "';\n", "Stripe key"},
		{"google api key", "maps.html", `<script src="https://maps.googleapis.com/maps/api/js?key=` + "AI" + "za" + g.str(35, alnum+"-_") + `"></script>` + "\n", "Google API key"},
		{"openai project key", "bot.py", `client = OpenAI(api_key="` + "sk" + "-proj-" + g.str(48, alnum+"-_") + `")` + "\n", "OpenAI-style API key"},
		{"openai legacy key", "bot.py", `openai.api_key = "` + "sk" + "-" + g.str(48, alnum) + `"` + "\n", "OpenAI-style API key"},
		{"anthropic key", "bot.ts", `const key = "` + "sk" + "-ant-api03-" + g.str(93, alnum+"-_") + "AA" + `";` + "\n", "Anthropic API key"},
		{"jwt", "req.http", "Authorization: Bearer " + g.jwt() + "\n", "JWT"},
		{"password in .env-like config", "config/app.ini", "[db]\npassword = " + g.str(20, alnum) + "\n", "high-entropy value assigned to password"},
		{"export in shell", "env.sh", "export DB_PASSWORD=" + g.str(24, alnum) + "\n", "high-entropy value assigned to DB_PASSWORD"},
		{"yaml bare", "deploy/values.yaml", "db:\n  user: app\n  password: " + g.str(24, alnum) + "\n", "high-entropy value assigned to password"},
		{"go literal", "client.go", "package client\n\nconst apiKey = \"" + g.str(32, hexDigits) + "\"\n", "high-entropy value assigned to apiKey"},
		{"python literal", "settings.py", "CLIENT_SECRET = '" + g.str(30, alnum) + "'\n", "high-entropy value assigned to CLIENT_SECRET"},
		{"json field", "config.json", `{"user": "app", "access_token": "` + g.str(40, alnum) + `"}`, "high-entropy value assigned to access_token"},
		{"go struct field", "cfg.go", "package cfg\n\nvar c = Config{\n\tToken: \"" + g.str(28, alnum) + "\",\n}\n", "high-entropy value assigned to Token"},
		{"npmrc token", ".npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_" + g.str(36, alnum) + "\n", "npm token"},
		{"pypirc password", ".pypirc", "[pypi]\nusername = __token__\npassword = pypi-" + g.str(60, alnum) + "\n", "PyPI password"},
	}
}

func TestDetectSecretContent(t *testing.T) {
	for _, c := range secretCases() {
		kind, ok := DetectSecret(c.path, []byte(c.content))
		if !ok || kind != c.kind {
			t.Errorf("%s: DetectSecret = %q, %v; want %q", c.name, kind, ok, c.kind)
		}
	}
}

func TestDetectSecretFileNames(t *testing.T) {
	cert := "-----BEGIN CERTIFICATE-----\n" + newFake(2).str(64, b64) + "\n-----END CERTIFICATE-----\n"
	for _, c := range []struct {
		path, content, kind string
	}{
		{"certs/server.pem", "no block at all", "key file"},
		{"server.key", "", "key file"},
		{"a/b/store.p12", "", "key file"},
		{"store.pfx", "", "key file"},
		{"release.jks", "", "key file"},
		{"android/app/upload.keystore", "", "key file"},
		{"home/.ssh/id_rsa", "", "SSH private key file"},
		{"id_rsa.old", "", "SSH private key file"},
		{"id_dsa", "", "SSH private key file"},
		{"id_ecdsa", "", "SSH private key file"},
		{"id_ed25519", "", "SSH private key file"},
		{".env", "A=1\n", "env file"},
		{"web/.env.local", "A=1\n", "env file"},
		{".env.production", "A=1\n", "env file"},
		{".netrc", "", "netrc credentials"},
		{".pgpass", "", "PostgreSQL password file"},
		{".git-credentials", "", "git credentials"},
		{"gcloud/credentials.json", "{}", "credentials file"},
		{"infra/terraform.tfstate", "{}", "Terraform state"},
		{"infra/terraform.tfstate.backup", "{}", "Terraform state"},
	} {
		kind, ok := DetectSecret(c.path, []byte(c.content))
		if !ok || kind != c.kind {
			t.Errorf("DetectSecret(%q) = %q, %v; want %q", c.path, kind, ok, c.kind)
		}
		if kind, ok := DetectSecret(c.path, nil); !ok || kind != c.kind {
			t.Errorf("DetectSecret(%q, nil) = %q, %v; want %q", c.path, kind, ok, c.kind)
		}
	}
	for _, c := range []struct{ path, content string }{
		{"id_rsa.pub", "ssh-rsa AAAA... me@host\n"},
		{"id_ed25519.pub", "ssh-ed25519 AAAA... me@host\n"},
		{".env.example", "API_KEY=\nDB_PASSWORD=changeme\n"},
		{".env.sample", "API_KEY=your-api-key-here\n"},
		{".env.template", "API_KEY=${API_KEY}\n"},
		{"environment.go", "package env\n"},
		{"keys.go", "package keys\n"},
		{"monkey.txt", "a monkey\n"},
		{"ca/root.pem", cert},                                              // certificates are public
		{"ca/bundle.pem", cert + cert},                                     // a bundle too
		{"pub.pem", strings.Replace(cert, "CERTIFICATE", "PUBLIC KEY", 2)}, // a public key
		{".npmrc", "registry=https://registry.npmjs.org/\nsave-exact=true\n"},
		{".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"},
		{".pypirc", "[pypi]\nusername = __token__\n"},
		{".pypirc", "[pypi]\npassword = ${PYPI_TOKEN}\n"},
		{"credentials.go", "package credentials\n"},
	} {
		if kind, ok := DetectSecret(c.path, []byte(c.content)); ok {
			t.Errorf("DetectSecret(%q, %q) = %q, want none", c.path, c.content, kind)
		}
	}
}

// TestDetectSecretNegatives holds code and data that must not be taken for
// secrets.
func TestDetectSecretNegatives(t *testing.T) {
	g := newFake(3)
	header := "-----BEGIN RSA " + "PRIVATE KEY-----"
	for _, c := range []struct{ name, path, content string }{
		{"lexer token", "parse.go", "package p\n\nfunc f() {\n\ttoken := lexer.Next()\n\tnextToken = tok.Peek(1)\n}\n"},
		{"env lookups", "main.go", "package main\n\nvar password = os.Getenv(\"PW\")\nvar apiKey = os.Getenv(\"OPENAI_API_KEY\")\n"},
		{"env lookups python", "app.py", "SECRET_KEY = os.environ['SECRET_KEY']\nDB_PASSWORD = os.getenv('DB_PASSWORD', '')\n"},
		{"env lookups js", "app.js", "const token = process.env.GITHUB_TOKEN;\nconst apiKey = process.env['API_KEY'];\n"},
		// AWS's documented example keys are placeholders.
		{"aws documented example", "README.md", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"},
		{"aws example in Go", "aws.go", "package aws\n\nconst id, key = \"AKIAIOSFODNN7EXAMPLE\", \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n"},
		{"placeholders", "config.yaml", "password: changeme\ntoken: <token>\napi_key: ${API_KEY}\nsecret: xxxxxxxxxxxxxxxxxxxxxxxx\n" +
			"client_secret: your-client-secret-here\naccess_token: '{{ .Values.token }}'\nprivate_key: REPLACE_WITH_YOUR_KEY_123\n"},
		{"quoted placeholders", "settings.py", "PASSWORD = 'changeme'\nAPI_KEY = '<your api key>'\nTOKEN = 'xxxxxxxxxxxxxxxxxxxxxxxx'\nSECRET = '%(secret)s12345678901234'\n"},
		{"a bare PEM header in code", "pem.go", "package pem\n\nconst header = \"" + header + "\"\n\nfunc isKey(s string) bool {\n\treturn strings.HasPrefix(s, header)\n}\n"},
		{"PEM header in a comment", "doc.go", "// Keys start with " + header + ", then base64 lines.\npackage doc\n"},
		{"word values", "i18n.yaml", "password: Please enter your password\ntoken_label: Personal access token\nsecret: top-secret-stuff-goes-here\n"},
		{"names ending in a secret word", "k8s.yaml", "secretName: my-app-tls-secret-v1\ntokenizer: bert-base-uncased-v2\nsecretRef: db-credentials-2024\n"},
		{"a name as value", "consts.go", "package c\n\nconst HeaderToken = \"X-Header-Token\"\nconst SessionToken2 = \"SessionToken2\"\nconst SchemeAPIKey = \"smithy.api#httpApiKeyAuth\"\n"},
		{"hashes under other names", "sums.txt", "sha256 = " + g.str(64, hexDigits) + "\ncommit: " + g.str(40, hexDigits) + "\n"},
		{"short values", "c.ini", "password = hunter2\ntoken = abc123\n"},
		{"word-only sk- names", "style.css", ".task-list-item-checkbox { }\n#sk-long-identifier-for-a-css-class-name-here { }\n"},
		{"kebab identifiers", "a.js", "const x = 'sk-this-is-not-a-key-but-a-long-identifier-name';\n"},
		{"not a JWT", "a.txt", "eyJmb28iOiJiYXIifQ.eyJiYXoiOiJxdXV4In0.c2lnbmF0dXJlc2lnbmF0dXJl\n"},
		{"a slack doc example", "README.md", "xoxb-your-token\nhttps://hooks.slack" + ".com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n"},
		{"placeholder token formats", "README.md", "gh" + "p_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" + "sk" + "_live_xxxxxxxxxxxxxxxxxxxxxxxx\n"},
		{"code reading a secret file", "ssh.go", "package ssh\n\nvar keyFile = filepath.Join(home, \".ssh\", \"id_rsa\")\nvar pemPath = \"/etc/ssl/private/server.pem\"\n"},
		// Test vectors: the name rule does not apply to tests (the exact
		// token formats still do, see TestScanSecrets).
		{"test vector in a Go test", "crypto/ecdh_test.go", "package ecdh\n\nvar v = vector{SharedSecret: \"" + g.str(64, hexDigits) + "\"}\n"},
		{"test vector in testdata", "hpke/testdata/vectors.json", `{"shared_secret": "` + g.str(64, hexDigits) + `"}`},
		{"python test", "tests/test_client.py", "TOKEN = '" + g.str(30, alnum) + "'\n"},
	} {
		if kind, ok := DetectSecret(c.path, []byte(c.content)); ok {
			t.Errorf("%s: DetectSecret(%s) = %q, want none", c.name, c.path, kind)
		}
	}
}

func TestShannon(t *testing.T) {
	for _, c := range []struct {
		s    string
		want float64
	}{{"", 0}, {"aaaa", 0}, {"abab", 1}, {"abcd", 2}, {"0123456789abcdef", 4}} {
		if got := shannon(c.s); got != c.want {
			t.Errorf("shannon(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

// TestOwnSourcesHoldNoSecret checks that this package's own files, tests
// included, pass the detector: the fake credentials above are assembled at
// run time.
func TestOwnSourcesHoldNoSecret(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if kind, ok := DetectSecret("ingest/"+f, b); ok {
			t.Errorf("%s: flagged as %q", f, kind)
		}
	}
}
