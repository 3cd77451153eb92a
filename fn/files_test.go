package fn_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

func TestLoadRestrictorFromEnv(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    fn.LoadRestrictor
		wantErr string
	}{
		{"", fn.LoadRestrictionsRootOnly, ""},
		{"LoadRestrictionsRootOnly", fn.LoadRestrictionsRootOnly, ""},
		{"LoadRestrictionsNone", fn.LoadRestrictionsNone, ""},
		{"none", fn.LoadRestrictionsRootOnly, `KMSGEN_LOAD_RESTRICTOR="none": want LoadRestrictionsRootOnly or LoadRestrictionsNone`},
	} {
		got, err := fn.LoadRestrictorFromEnv(func(string) string { return tc.value })
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%q: %v, %v; want %v, %q", tc.value, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestFiles: where file sources may lead under each load restrictor.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"repo/.git/HEAD":                       "ref: refs/heads/main\n",
		"repo/shared/common.env.encrypted":     "shared",
		"repo/overlays/prod/local.encrypted":   "local",
		"outside.encrypted":                    "outside",
		"norepo/overlays/prod/local.encrypted": "local",
		"norepo/shared/common.env.encrypted":   "shared",
	})
	if err := os.Symlink(filepath.Join(dir, "outside.encrypted"), filepath.Join(dir, "repo/shared/link.encrypted")); err != nil {
		t.Fatal(err)
	}
	prod := filepath.Join(dir, "repo/overlays/prod")
	tests := []struct {
		name       string
		root       string
		restrictor fn.LoadRestrictor
		path       string
		want       string // content, or the error it contains
		ok         bool
	}{
		{"root only, inside", prod, fn.LoadRestrictionsRootOnly, "local.encrypted", "local", true},
		{"root only, a shared file", prod, fn.LoadRestrictionsRootOnly, "../../shared/common.env.encrypted", "the path leaves the kustomization root, which kustomize's default load restrictor forbids", false},
		{"none, a shared file in the repository", prod, fn.LoadRestrictionsNone, "../../shared/common.env.encrypted", "shared", true},
		{"none, inside", prod, fn.LoadRestrictionsNone, "local.encrypted", "local", true},
		{"none, out of the repository", prod, fn.LoadRestrictionsNone, "../../../outside.encrypted", "the path leaves the git repository", false},
		{"none, a symlink out of the repository", prod, fn.LoadRestrictionsNone, "../../shared/link.encrypted", "path escapes from parent", false},
		{"none, no repository", filepath.Join(dir, "norepo/overlays/prod"), fn.LoadRestrictionsNone, "../../shared/common.env.encrypted", "is in none (no .git at or above it)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, err := fn.OpenFiles(fn.Input{Root: tc.root}, tc.restrictor)
			var data []byte
			if err == nil {
				defer files.Close()
				data, err = files.Read(tc.path)
			}
			switch {
			case tc.ok && (err != nil || string(data) != tc.want):
				t.Errorf("Read = %q, %v; want %q", data, err, tc.want)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Read = %q, %v; want an error containing %q", data, err, tc.want)
			}
		})
	}
}
