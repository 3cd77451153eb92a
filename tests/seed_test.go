package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

var aliasCounter atomic.Int64

// uniqueName returns prefix with a suffix unique in this run, for aliases on
// the shared emulators.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), aliasCounter.Add(1))
}

// TestSeedWorkflow follows the workflow kmsgen replaces: the aws CLI
// creates the key and alias and encrypts the env file exactly as the seed
// does (steps 1 and 2); kmsgen under kustomize replaces step 3; and the
// Secret's data must equal what `kubectl create secret generic
// --from-env-file` makes from the same file.
func TestSeedWorkflow(t *testing.T) {
	const secrets = "DB_HOST=db.internal\nDB_PASSWORD=" + canary + "\nAPI_KEY=ak-123=with=equals\n# comment\n\nEMPTY=\nSPACED=  kept verbatim  \n"
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			work := t.TempDir()
			plainDir, repo := filepath.Join(work, "plain"), filepath.Join(work, "repo")
			testfiles.Write(t, plainDir, map[string]string{"myproject_secrets": secrets})
			env := append(baseEnv(), k.Env()...)
			keyName := uniqueName("myproject")
			env = append(env, "KMS_KEY_NAME="+keyName)

			// Steps 1 and 2, verbatim from the seed.
			sh(t, plainDir, env, `aws kms create-key --description $KMS_KEY_NAME --output json | jq .KeyMetadata.Arn | xargs aws kms create-alias --alias-name alias/$KMS_KEY_NAME --target-key-id`)
			sh(t, plainDir, env, `aws kms encrypt --key-id alias/$KMS_KEY_NAME --plaintext fileb://myproject_secrets --query CiphertextBlob --output text > myproject_secrets.encrypted`)

			// Step 3, the kmsgen way: the repository holds only ciphertext.
			encrypted, err := os.ReadFile(filepath.Join(plainDir, "myproject_secrets.encrypted"))
			if err != nil {
				t.Fatal(err)
			}
			alias := "alias/" + keyName
			testfiles.Write(t, repo, map[string]string{
				"myproject_secrets.encrypted": string(encrypted),
				"kustomization.yaml":          "generators: [secrets.yaml]\n",
				"secrets.yaml":                execGenerator("myproject-secrets") + "envs: [myproject_secrets.encrypted]\nkms: {keyId: " + alias + "}\n",
			})
			built := kustomizeBuild(t, repo, env)
			if built.code != 0 {
				t.Fatalf("kustomize build: %s", built.stderr)
			}
			kubectl := run(t, plainDir, baseEnv(), nil, "kubectl", "create", "secret", "generic", "myproject-secrets",
				"--from-env-file=myproject_secrets", "--dry-run=client", "-o", "yaml")
			if kubectl.code != 0 {
				t.Fatalf("kubectl: %s", kubectl.stderr)
			}
			want := secretData(t, kubectl.stdout)["myproject-secrets"]
			got := secretData(t, built.stdout)
			if len(got) != 1 {
				t.Fatalf("kustomize printed %d Secrets, want 1:\n%s", len(got), built.stdout)
			}
			for name, data := range got {
				if !strings.HasPrefix(name, "myproject-secrets-") {
					t.Errorf("Secret name %q has no hash suffix", name)
				}
				if diff := cmp.Diff(want, data); diff != "" {
					t.Errorf("Secret data differs from kubectl's (-kubectl +kmsgen):\n%s", diff)
				}
			}
			assertNoCanary(t, built.stderr)
		})
	}
}

// sh runs a shell command line with pipefail and fails the test on error.
func sh(t *testing.T, dir string, env []string, script string) string {
	t.Helper()
	res := run(t, dir, env, nil, "bash", "-euo", "pipefail", "-c", script)
	if res.code != 0 {
		t.Fatalf("%s\nexit %d: %s", script, res.code, res.stderr)
	}
	return res.stdout
}
