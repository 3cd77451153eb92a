package cli

import (
	"encoding/base64"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestCheckRepository: check follows the repository: an inline generator
// is checked, one listed under resources fails, one nothing runs and a
// remote base are warnings.
func TestCheckRepository(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(checkKey, "alias/check"))
	dir := t.TempDir()
	t.Chdir(dir)
	ct := base64.StdEncoding.EncodeToString(fake.Encrypt(checkKey, nil, []byte(checkCanary)))
	gen := func(name string) string {
		return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name + "\nliterals: [A=" + ct + "]\n"
	}
	testfiles.Write(t, dir, map[string]string{
		"overlay/kustomization.yaml": "resources:\n- github.com/example/base?ref=v1\n- as-resource.yaml\ngenerators:\n- |-\n  " +
			strings.ReplaceAll(strings.TrimSpace(gen("inline")), "\n", "\n  ") + "\n",
		"overlay/as-resource.yaml": gen("as-resource"),
		"loose/gen.yaml":           gen("loose"),
	})
	code, stdout, stderr := runMain(t, "", "check", ".")
	want := `ok   loose/gen.yaml: KMSSecretGenerator "loose" (1 source)
FAIL overlay/as-resource.yaml: KMSSecretGenerator "as-resource" (1 source)
     listed as a resource (overlay/kustomization.yaml resources[1]): kustomize emits it as an object and never runs kmsgen, so no Secret is made; list it under generators: instead
ok   overlay/kustomization.yaml (generators[0]): KMSSecretGenerator "inline" (1 source)
warn overlay/kustomization.yaml resources[0]: remote base "github.com/example/base?ref=v1" not followed: generators in it are not seen
warn loose/gen.yaml: KMSSecretGenerator "loose": no kustomization runs it and no Kptfile is above it, so only kmsgen build expands it; list it under a kustomization's generators:
3 KMSSecretGenerators checked: 2 ok, 1 failed; 2 warnings
`
	if code != ExitFailed || stdout != want {
		t.Errorf("exit %d, stderr %q; stdout:\n%s\nwant:\n%s", code, stderr, stdout, want)
	}
	if strings.Contains(stdout+stderr, checkCanary) {
		t.Error("plaintext in the output")
	}
}
