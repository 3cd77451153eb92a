package tests

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestResourceListContract runs the binary the way every KRM host does:
// a ResourceList on stdin. A failure must leave an error result naming the
// generator and the source, no Secret, exit code 1 and one line on stderr.
func TestResourceListContract(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(fakeKey))
	env := append(baseEnv(), awstest.Env(fake.URL)...)
	ct := base64.StdEncoding.EncodeToString(fake.Encrypt(fakeKey, map[string]string{"app": "x"}, []byte(canary)))
	resourceList := func(kms string) []byte {
		return []byte(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: kmsgen.dev/v1alpha1
  kind: KMSSecretGenerator
  metadata:
    name: app-secrets
    namespace: prod
    annotations: {config.kubernetes.io/function: "exec: {path: kmsgen}", config.kubernetes.io/local-config: "true", config.kubernetes.io/index: "0"}
  files: [{key: token, ciphertext: ` + ct + `}]
  kms: ` + kms + `
functionConfig:
  apiVersion: kmsgen.dev/v1alpha1
  kind: KMSSecretGenerator
  metadata:
    name: app-secrets
    namespace: prod
    annotations: {config.kubernetes.io/function: "exec: {path: kmsgen}", config.kubernetes.io/local-config: "true"}
  files: [{key: token, ciphertext: ` + ct + `}]
  kms: ` + kms + `
`)
	}
	dir := t.TempDir()

	t.Run("success", func(t *testing.T) {
		res := run(t, dir, env, resourceList("{encryptionContext: {app: x}}"), "kmsgen")
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		out := yaml.MustParse(res.stdout)
		var kinds []string
		items, _ := out.Pipe(yaml.Lookup("items"))
		for _, it := range items.Content() {
			kinds = append(kinds, yaml.NewRNode(it).GetKind()+"/"+yaml.NewRNode(it).GetName())
		}
		if diff := cmp.Diff([]string{"Secret/app-secrets"}, kinds); diff != "" {
			t.Errorf("items (-want +got):\n%s", diff)
		}
		secret := yaml.NewRNode(items.Content()[0])
		if got := secret.GetAnnotations()["kustomize.config.k8s.io/needs-hash"]; got != "true" {
			t.Errorf("needs-hash annotation = %q, want true:\n%s", got, res.stdout)
		}
		if !strings.Contains(res.stdout, "generatorOptions were not applied") {
			t.Errorf("no warning that no kustomization was found:\n%s", res.stdout)
		}
	})

	t.Run("failure", func(t *testing.T) {
		res := run(t, dir, env, resourceList("{encryptionContext: {app: wrong}}"), "kmsgen")
		if res.code != 1 {
			t.Errorf("exit %d, want 1", res.code)
		}
		if lines := strings.Split(strings.TrimSpace(res.stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "kmsgen: ") {
			t.Errorf("stderr is not one kmsgen line: %q", res.stderr)
		}
		out := yaml.MustParse(res.stdout)
		results, _ := out.Pipe(yaml.Lookup("results"))
		var errorResults []*yaml.RNode
		if results != nil {
			for _, r := range results.Content() {
				if rn := yaml.NewRNode(r); yaml.GetValue(rn.Field("severity").Value) == "error" {
					errorResults = append(errorResults, rn)
				}
			}
		}
		if len(errorResults) != 1 {
			t.Fatalf("want one error result:\n%s", res.stdout)
		}
		r := errorResults[0]
		got := map[string]string{
			"severity": yaml.GetValue(r.Field("severity").Value),
			"field":    yaml.GetValue(mustLookup(t, r, "field", "path")),
			"name":     yaml.GetValue(mustLookup(t, r, "resourceRef", "name")),
			"kind":     yaml.GetValue(mustLookup(t, r, "resourceRef", "kind")),
		}
		want := map[string]string{"severity": "error", "field": "files[0]", "name": "app-secrets", "kind": "KMSSecretGenerator"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
		if msg := yaml.GetValue(r.Field("message").Value); !strings.Contains(msg, `KMSSecretGenerator "prod/app-secrets": files[0] (inline) (key "token")`) ||
			!strings.Contains(msg, "InvalidCiphertextException") {
			t.Errorf("result message %q does not name generator, source and cause", msg)
		}
		if strings.Contains(res.stdout, "kind: Secret") {
			t.Errorf("a Secret was emitted:\n%s", res.stdout)
		}
		assertNoCanary(t, res.stdout, res.stderr)
	})
}

func mustLookup(t *testing.T, rn *yaml.RNode, path ...string) *yaml.RNode {
	t.Helper()
	v, err := rn.Pipe(yaml.Lookup(path...))
	if err != nil || v == nil {
		t.Fatalf("no %v in %s", path, rn.MustString())
	}
	return v
}

// TestStandaloneBuild: `kmsgen build` names the Secret as kustomize would,
// so the seed's step 3 needs no kustomize.
func TestStandaloneBuild(t *testing.T) {
	k := kmsEmulator(t, "local-kms")
	alias := "alias/" + uniqueName("standalone")
	if _, err := k.CreateKey(t.Context(), alias); err != nil {
		t.Fatal(err)
	}
	env := append(baseEnv(), k.Env()...)
	dir := t.TempDir()
	testfiles.Write(t, dir, generatorTree(t, migration{kms: k, keyID: alias}, "  keyId: "+alias+"\n"))
	// kmsgen build resolves paths against the generator's directory, from anywhere.
	res := run(t, t.TempDir(), env, nil, "kmsgen", "build", filepath.Join(dir, "generator.yaml"))
	if res.code != 0 {
		t.Fatalf("kmsgen build: %s", res.stderr)
	}
	viaKustomize := kustomizeBuild(t, dir, env)
	if viaKustomize.code != 0 {
		t.Fatalf("kustomize: %s", viaKustomize.stderr)
	}
	if diff := cmp.Diff(viaKustomize.stdout, res.stdout); diff != "" {
		t.Errorf("kmsgen build differs from kustomize build (-kustomize +kmsgen):\n%s", diff)
	}

	t.Run("failure", func(t *testing.T) {
		check(t, os.WriteFile(filepath.Join(dir, "app.env.encrypted"), []byte("DB_PASSWORD="+canary+"\n"), 0o644))
		res := run(t, dir, env, nil, "kmsgen", "build", "generator.yaml")
		if res.code != 1 || res.stdout != "" {
			t.Errorf("exit %d, stdout %q; want 1 and nothing", res.code, res.stdout)
		}
		if !strings.Contains(res.stderr, `envs[0] "app.env.encrypted": readable text that is not base64`) {
			t.Errorf("stderr %q does not explain the failure", res.stderr)
		}
		assertNoCanary(t, res.stderr)
	})
}
