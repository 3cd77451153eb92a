package tests

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestKptGuardEveryEntryPoint: without KMSGEN_OUTPUT=stdout or the
// generator's opt-in, no kpt entry point gets a Secret out of kmsgen, so
// none can write plaintext into the package: whatever kpt passes (zero
// items, a selector that matches nothing, a functionConfig from outside the
// package). kmsgen tells kustomize apart by what kustomize always sends.
func TestKptGuardEveryEntryPoint(t *testing.T) {
	fake, env := repoFake(t)
	gen := kptGeneratorDoc("app-secrets", "literals: [A="+sealed(fake, canary)+"]\n")
	kptfile := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: {name: pkg}\n"
	tests := []struct {
		name  string
		files map[string]string // the package, in pkg/; gen.yaml beside it
		args  []string          // kpt's arguments, run beside pkg/
	}{
		{"eval, a selector matching nothing in a package with only a Kptfile",
			map[string]string{"pkg/Kptfile": kptfile},
			[]string{"fn", "eval", "pkg", "--exec", "kmsgen", "--fn-config", "gen.yaml", "--match-kind", "Deployment"}},
		{"eval on an empty directory",
			map[string]string{"pkg/.keep": ""},
			[]string{"fn", "eval", "pkg", "--exec", "kmsgen", "--fn-config", "gen.yaml"}},
		{"eval, the generator in the package, no selector",
			map[string]string{"pkg/Kptfile": kptfile, "pkg/secrets.yaml": gen},
			[]string{"fn", "eval", "pkg", "--exec", "kmsgen"}},
		{"render, a pipeline step whose selector matches nothing",
			map[string]string{"pkg/Kptfile": kptfile + "pipeline:\n  mutators:\n  - exec: kmsgen\n    configPath: secrets.yaml\n    selectors: [{kind: Nope}]\n",
				"pkg/secrets.yaml": gen},
			[]string{"fn", "render", "--allow-exec", "pkg"}},
		{"render, every generator",
			map[string]string{"pkg/Kptfile": kptfileNamed("pkg"), "pkg/secrets.yaml": gen},
			[]string{"fn", "render", "--allow-exec", "pkg"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testfiles.Write(t, dir, tc.files)
			testfiles.Write(t, dir, map[string]string{"gen.yaml": gen})
			before, calls := snapshot(t, filepath.Join(dir, "pkg")), fake.Calls("Decrypt")
			res := run(t, dir, env, nil, "kpt", tc.args...)
			if res.code == 0 {
				t.Errorf("kpt %s succeeded, want the guard to refuse:\n%s", strings.Join(tc.args, " "), res.stderr)
			}
			if !strings.Contains(res.stderr, "refusing to emit the Secret") {
				t.Errorf("the refusal is not explained:\n%s", res.stderr)
			}
			if diff := cmp.Diff(before, snapshot(t, filepath.Join(dir, "pkg"))); diff != "" {
				t.Errorf("the package changed (-before +after):\n%s", diff)
			}
			assertNoCanary(t, res.stdout, res.stderr)
			if n := fake.Calls("Decrypt") - calls; n != 0 {
				t.Errorf("%d Decrypt calls: the guard must refuse before KMS", n)
			}
		})
	}
}
