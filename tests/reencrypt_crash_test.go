package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestReencryptKilledAtEveryStep kills kmsgen reencrypt (kill -9, at a
// fault point in the code) at every step of switching files: three
// ciphertext files and the generator file. Running it again then finishes
// the job (or does it, when the kill came before anything was switched):
// with the old key disabled, the build works on the new key alone, and no
// temporary file or journal is left.
func TestReencryptKilledAtEveryStep(t *testing.T) {
	steps := []string{"prepared", "temp 0", "temp 1", "temp 2", "temp 3", "committed", "renamed 0", "renamed 1", "renamed 2", "renamed 3", "done"}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			fake, env := repoFake(t)
			dir := t.TempDir()
			testfiles.Write(t, dir, map[string]string{
				"kustomization.yaml": "generators: [secrets/gen.yaml]\n",
				"secrets/gen.yaml":   execGenerator("app-secrets") + "envs: [a.env.encrypted, b/b.env.encrypted]\nfiles: [c.encrypted]\nkms: {keyId: alias/old}\n",
				"a.env.encrypted":    sealed(fake, "A="+canary+"\n"),
				"b/b.env.encrypted":  sealed(fake, "B=b\n"),
				"c.encrypted":        sealed(fake, "c-"+canary),
			})
			crashed := run(t, dir, append(env, "KMSGEN_TEST_CRASH_AT="+step), nil, "kmsgen", "reencrypt", "--key-id", "alias/new", ".")
			if crashed.code != -1 { // killed by a signal
				t.Fatalf("reencrypt was not killed at %q: exit %d\n%s%s", step, crashed.code, crashed.stdout, crashed.stderr)
			}
			again := run(t, dir, env, nil, "kmsgen", "reencrypt", "--key-id", "alias/new", ".")
			if again.code != 0 {
				t.Fatalf("reencrypt after the kill: exit %d\n%s%s", again.code, again.stdout, again.stderr)
			}
			fake.SetKeyState(repoOldKey, fakekms.Disabled)
			built := kustomizeBuild(t, dir, env)
			if built.code != 0 {
				t.Fatalf("kustomize build on the new key alone: exit %d\n%s", built.code, built.stderr)
			}
			for _, data := range secretData(t, built.stdout) {
				if diff := cmp.Diff(map[string]string{"A": canary, "B": "b", "c": "c-" + canary}, data); diff != "" {
					t.Errorf("Secret data (-want +got):\n%s", diff)
				}
			}
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), ".kmsgen-") {
					t.Errorf("left behind: %s", p)
				}
				return err
			})
			assertNoCanary(t, crashed.stdout, crashed.stderr, again.stdout, again.stderr)
		})
	}
}
