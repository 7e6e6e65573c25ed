package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lore/api"
	"lore/config"
	"lore/ingest/scan"
)

// TestFilesOutsideThePack: a question's location and an editor buffer read
// only what the pack's selection admits. Symlinks out of the repository, git's
// own files and files .gitignore excludes are refused with the reason; a
// symlink within the repository names the file it points at.
func TestFilesOutsideThePack(t *testing.T) {
	e := newEnv(t)
	e.vars = append(e.vars, config.EnvWatch+"=off") // the question itself refreshes
	outside := t.TempDir()
	const marker = "root:x:0:0:lore-test-outside-marker"
	for name, body := range map[string]string{"passwd": marker + "\n", "shadow": marker + "\n", "hosts": "127.0.0.1 localhost\n"} {
		if err := os.WriteFile(filepath.Join(outside, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel, body string) {
		if err := os.WriteFile(filepath.Join(e.repo, rel), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".gitignore", "local.conf\n")
	write("local.conf", "db_host = internal.example.org\n")
	for link, target := range map[string]string{
		"plink":    filepath.Join(outside, "passwd"),
		"etc":      outside,
		"alphadir": "alpha",
	} {
		if err := os.Symlink(target, filepath.Join(e.repo, link)); err != nil {
			t.Fatal(err)
		}
	}
	d := e.start()
	st := d.ready(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ask := func(loc api.Location) (*api.AskResult, error) {
		return d.client.Ask(ctx, api.AskParams{Question: "What is this?", MaxTokens: 4, Location: &loc}, nil, nil)
	}
	for _, c := range []struct {
		loc  api.Location
		want string
	}{
		{api.Location{Path: "plink"}, "not inside the repository"},
		{api.Location{Path: filepath.Join(e.repo, "plink")}, "not inside the repository"},
		{api.Location{Path: "etc/shadow"}, "not inside the repository"},
		{api.Location{Path: "etc/shadow", Text: marker}, "not inside the repository"},
		{api.Location{Path: ".git/config"}, "inside .git"},
		{api.Location{Path: "alpha/../.git/config"}, "inside .git"},
		{api.Location{Path: "local.conf"}, scan.ReasonIgnored},
		{api.Location{Path: "local.conf", Text: "db_host = internal.example.org\n"}, scan.ReasonIgnored},
		{api.Location{Path: "missing.go"}, scan.ReasonNotInTree},
	} {
		_, err := ask(c.loc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("location %+v: %v; want an error saying %q", c.loc, err, c.want)
		} else if strings.Contains(err.Error(), marker) {
			t.Errorf("location %+v: the error shows the file's content: %v", c.loc, err)
		}
	}
	// A symlink inside the repository names its target, which the pack holds.
	if _, err := ask(api.Location{Path: "alphadir/alpha.go", StartLine: 1}); err != nil {
		t.Errorf("a location through a symlink to a folder of the repository: %v", err)
	}

	// Buffers: a path leading out of the repository or into .git is refused
	// at once; one that git ignores is held but never packed.
	for p, want := range map[string]string{
		"etc/hosts":   "not inside the repository",
		"plink":       "not inside the repository",
		".git/config": "inside .git",
	} {
		if err := d.client.UpdateBuffer(ctx, p, "127.0.0.1 evil\n"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("buffer %s: %v; want an error saying %q", p, err, want)
		}
	}
	if err := d.client.UpdateBuffer(ctx, "local.conf", "db_host = internal.example.org\npassword_hint = the usual\n"); err != nil {
		t.Fatal(err)
	}
	res, _ := d.ask(t, "What is configured?")
	st2, _ := d.client.Status(ctx)
	if res.PackVersion != st.PackVersion || st2.Files != st.Files {
		t.Errorf("a buffer for an ignored file: version %s -> %s, files %d -> %d", st.PackVersion, res.PackVersion, st.Files, st2.Files)
	}
	// Through the in-repository symlink, the buffer is alpha/alpha.go's.
	if err := d.client.UpdateBuffer(ctx, "alphadir/alpha.go", "package alpha // unsaved through a symlink\n"); err != nil {
		t.Fatal(err)
	}
	res2, _ := d.ask(t, "What is in alpha?")
	st3, _ := d.client.Status(ctx)
	// alpha/alpha.go's new text goes to the overlay: one segment more.
	if res2.PackVersion == res.PackVersion || st3.Segments != st.Segments+1 {
		t.Errorf("a buffer through a symlinked folder of the repository: version %s -> %s, segments %d -> %d",
			res.PackVersion, res2.PackVersion, st.Segments, st3.Segments)
	}
	if err := d.client.CloseBuffer(ctx, "alphadir/alpha.go"); err != nil {
		t.Fatal(err)
	}
	if err := d.client.CloseBuffer(ctx, "local.conf"); err != nil {
		t.Fatal(err)
	}
	if st4, _ := d.client.Status(ctx); st4.Buffers != 0 {
		t.Errorf("%d buffers after closing both", st4.Buffers)
	}
	d.stop(t)
}
