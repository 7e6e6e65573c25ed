package handoff

import (
	"strings"
	"testing"
)

// Planted secrets in the shapes the detectors know. They are built from
// pieces so that this file itself does not read as holding a credential.
var (
	plantAWS    = "AKIA" + "Q3HZ7XW2PL5NV4KD"
	plantGitHub = "ghp_" + "k8Qz2Lm9Xv4Rt7Wn1Bc6Hy3Jd5Fs0Ga8Pe2U"
	plantStripe = "sk_live_" + "51Hx8QzLm2Vn7Rt4Wk9Pb3Jc"
	plantPEM    = "-----BEGIN RSA " + "PRIVATE KEY-----\n" +
		"MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n" +
		"VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n" +
		"LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo\n" +
		"-----END RSA " + "PRIVATE KEY-----\n"
)

func TestRedactRestores(t *testing.T) {
	r, err := NewRedactor([]string{`corp\.internal\.example`})
	if err != nil {
		t.Fatal(err)
	}
	text := "package main\n\nconst region = \"eu\"\nvar awsID = \"" + plantAWS + "\" // deploy\nvar gh = \"" + plantGitHub + "\"\n" +
		"const stripe = \"" + plantStripe + "\"\nconst host = \"db.corp.internal.example\"\nconst key = `" + plantPEM + "`\nfunc main() {}\n"
	out, ok := r.Redact("main.go", text)
	if !ok {
		t.Fatal("could not narrow the secrets down")
	}
	for _, s := range []string{plantAWS, plantGitHub, plantStripe, "corp.internal.example", "MIIEowIBAAKCAQEAu1SU1Lf", "LPgizskuemMghRni"} {
		if strings.Contains(out, s) {
			t.Errorf("%q still in the redacted text:\n%s", s, out)
		}
	}
	for _, keep := range []string{"package main", "const region = \"eu\"", "// deploy", "func main() {}"} {
		if !strings.Contains(out, keep) {
			t.Errorf("%q lost by redaction:\n%s", keep, out)
		}
	}
	if back := r.Restore(out); back != text {
		t.Errorf("restore:\n%s\nwant\n%s", back, text)
	}
	again, _ := r.Redact("main.go", text)
	if again != out {
		t.Error("placeholders are not stable across calls")
	}
	if r.Count() < 5 {
		t.Errorf("%d secrets replaced, want at least 5", r.Count())
	}
}

func TestRedactCleanTextUnchanged(t *testing.T) {
	r, _ := NewRedactor(nil)
	text := "func add(a, b int) int { return a + b }\n// token handling lives in auth.go\n"
	if out, ok := r.Redact("add.go", text); !ok || out != text || r.Count() != 0 {
		t.Errorf("clean text changed: %q", out)
	}
}
