package fn_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/krm"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/krustytest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// kptPackage is a package on disk and the ResourceList kpt makes of it.
type kptPackage struct {
	t    *testing.T
	fake *fakekms.Server
	dir  string
}

func newKptPackage(t *testing.T) *kptPackage {
	return &kptPackage{t: t, fake: newFake(t), dir: t.TempDir()}
}

// encrypt writes the ciphertext of plaintext to the package file name.
func (k *kptPackage) encrypt(name, plaintext string) {
	ct := base64.StdEncoding.EncodeToString(k.fake.Encrypt(keyApp, nil, []byte(plaintext)))
	testfiles.Write(k.t, k.dir, map[string]string{name: ct})
}

// item annotates a resource as kpt does, with its path, and for kpt fn
// render (render true) the absolute package path, and returns it as an
// entry of the items list.
func (k *kptPackage) item(path, body string, render bool) string {
	rn := yaml.MustParse(body)
	annotations := map[string]string{"config.kubernetes.io/path": path, "internal.config.kubernetes.io/path": path,
		"config.kubernetes.io/index": "0"}
	if render {
		annotations["internal.config.kubernetes.io/package-path"] = k.dir
	}
	for key, value := range annotations {
		if err := rn.PipeE(yaml.SetAnnotation(key, value)); err != nil {
			k.t.Fatal(err)
		}
	}
	return "- " + strings.ReplaceAll(strings.TrimSpace(rn.MustString()), "\n", "\n  ") + "\n"
}

const kptDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      containers:
      - name: app
        image: app
        envFrom:
        - secretRef: {name: app-secrets}
`

const kptGenerator = `apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app-secrets
  annotations: {config.kubernetes.io/local-config: "true"}
envs: [app.env.encrypted]
`

// resourceList is the input kpt gives, with items and a functionConfig.
func (k *kptPackage) resourceList(items []string, functionConfig string) string {
	rl := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + strings.Join(items, "")
	if functionConfig != "" {
		rl += "functionConfig:\n  " + strings.ReplaceAll(strings.TrimSpace(functionConfig), "\n", "\n  ") + "\n"
	}
	return rl
}

// run runs the Processor on input as kpt would, from workDir.
func (k *kptPackage) run(input, output, workDir string) (string, error) {
	k.t.Helper()
	p := &fn.Processor{Context: k.t.Context(), Generator: newGenerator(awskms.Options{}), WorkDir: workDir, Output: output}
	var out bytes.Buffer
	err := krm.Execute(p, &kio.ByteReadWriter{Reader: strings.NewReader(input), Writer: &out, KeepReaderAnnotations: true})
	return out.String(), err
}

// builtinName is the name kustomize's own secretGenerator gives the Secret
// of an env file holding env.
func builtinName(t *testing.T, name, env string) string {
	out := krustytest.Build(t, types.Kustomization{SecretGenerator: []types.SecretArgs{{GeneratorArgs: types.GeneratorArgs{
		Name: name, KvPairSources: types.KvPairSources{EnvSources: []string{"app.env"}}}}}},
		map[string]string{"app.env": env})
	return yaml.MustParse(out).GetName()
}

func outputItems(t *testing.T, out string) map[string]*yaml.RNode {
	t.Helper()
	_, items := parseOutput(t, out)
	byID := map[string]*yaml.RNode{}
	for _, it := range items {
		byID[it.GetKind()+"/"+it.GetName()] = it
	}
	return byID
}

func secretRefOf(t *testing.T, deployment *yaml.RNode) string {
	t.Helper()
	envFrom, err := deployment.Pipe(yaml.Lookup("spec", "template", "spec", "containers", "[name=app]", "envFrom"))
	if err != nil || envFrom == nil {
		t.Fatalf("no envFrom in %s", deployment.MustString())
	}
	name, _ := yaml.NewRNode(envFrom.Content()[0]).Pipe(yaml.Lookup("secretRef", "name"))
	return yaml.GetValue(name)
}

// TestKptRender: under kpt fn render the Secret gets kustomize's hashed
// name, its generator's annotation and a path beside the generator; the
// Deployment's reference follows; the generator stays.
func TestKptRender(t *testing.T) {
	const env = "DB_PASSWORD=s3cr3t\nAPI_KEY=k\n"
	k := newKptPackage(t)
	k.encrypt("sub/app.env.encrypted", env)
	input := k.resourceList([]string{
		k.item("Kptfile", "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: {name: pkg}\n", true),
		k.item("deploy.yaml", kptDeployment, true),
		k.item("sub/gen.yaml", kptGenerator, true),
	}, "")
	out, err := k.run(input, fn.OutputStdout, t.TempDir()) // kpt runs exec functions from anywhere
	if err != nil {
		t.Fatalf("Process: %v\n%s", err, out)
	}
	want := builtinName(t, "app-secrets", env)
	items := outputItems(t, out)
	s := items["Secret/"+want]
	if s == nil {
		t.Fatalf("no Secret %s (kustomize's name) in:\n%s", want, out)
	}
	gotAnnotations := map[string]string{}
	for _, a := range []string{fn.GeneratorAnnotation, "internal.config.kubernetes.io/path", "config.kubernetes.io/path"} {
		gotAnnotations[a] = s.GetAnnotations()[a]
	}
	wantAnnotations := map[string]string{fn.GeneratorAnnotation: "app-secrets",
		"internal.config.kubernetes.io/path": "sub/app-secrets" + fn.SecretFileSuffix, "config.kubernetes.io/path": "sub/app-secrets" + fn.SecretFileSuffix}
	if diff := cmp.Diff(wantAnnotations, gotAnnotations); diff != "" {
		t.Errorf("Secret annotations (-want +got):\n%s", diff)
	}
	if got := secretRefOf(t, items["Deployment/app"]); got != want {
		t.Errorf("Deployment refers to %q, want %q", got, want)
	}
	if items["KMSSecretGenerator/app-secrets"] == nil || items["Kptfile/pkg"] == nil {
		t.Errorf("the generator and the Kptfile must stay:\n%s", out)
	}

	t.Run("a second render changes nothing", func(t *testing.T) {
		again, err := k.run(out, fn.OutputStdout, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(out, again); diff != "" {
			t.Errorf("second render (-first +second):\n%s", diff)
		}
	})

	t.Run("a changed value replaces the Secret and its references", func(t *testing.T) {
		const changed = "DB_PASSWORD=rotated\nAPI_KEY=k\n"
		k.encrypt("sub/app.env.encrypted", changed)
		again, err := k.run(out, fn.OutputStdout, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		newName := builtinName(t, "app-secrets", changed)
		var secrets []string
		for id := range outputItems(t, again) {
			if strings.HasPrefix(id, "Secret/") {
				secrets = append(secrets, id)
			}
		}
		if diff := cmp.Diff([]string{"Secret/" + newName}, secrets); diff != "" {
			t.Errorf("Secrets after the change (-want +got):\n%s", diff)
		}
		if got := secretRefOf(t, outputItems(t, again)["Deployment/app"]); got != newName {
			t.Errorf("Deployment refers to %q, want %q", got, newName)
		}
	})
}

// TestKptGuard: without KMSGEN_OUTPUT=stdout or the generator's consent,
// kmsgen refuses before any KMS call, since kpt may write the plaintext
// into the package.
func TestKptGuard(t *testing.T) {
	tests := []struct {
		name      string
		output    string
		generator string
		wantErr   string
	}{
		{name: "no promise", generator: kptGenerator,
			wantErr: `sub/gen.yaml: KMSSecretGenerator "app-secrets": refusing to emit the Secret: kpt fn render writes its result into the package on disk by default`},
		{name: "unknown KMSGEN_OUTPUT", output: "file", generator: kptGenerator,
			wantErr: `KMSGEN_OUTPUT="file": the only value is stdout`},
		{name: "behavior merge", output: fn.OutputStdout, generator: kptGenerator + "behavior: merge\n",
			wantErr: "behavior merge needs kustomize"},
		{name: "allowed in the package", generator: kptGenerator + "kpt: {allowPlaintextInPackage: true}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newKptPackage(t)
			k.encrypt("sub/app.env.encrypted", "A=1\n")
			input := k.resourceList([]string{k.item("sub/gen.yaml", tc.generator, true)}, "")
			out, err := k.run(input, tc.output, t.TempDir())
			items := outputItems(t, out)
			if tc.wantErr == "" {
				if err != nil || len(items) != 2 {
					t.Fatalf("error %v, %d items; want the generator and its Secret:\n%s", err, len(items), out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if len(items) != 1 || items["KMSSecretGenerator/app-secrets"] == nil {
				t.Errorf("output items: want only the generator:\n%s", out)
			}
			if n := k.fake.Calls("Decrypt"); n != 0 {
				t.Errorf("Decrypt calls = %d, want 0", n)
			}
		})
	}
}

// TestKptEval: kpt fn eval gives no package path, so paths resolve against
// the working directory, and the error says so when that is wrong.
func TestKptEval(t *testing.T) {
	k := newKptPackage(t)
	k.encrypt("sub/app.env.encrypted", "A=1\n")
	input := k.resourceList([]string{k.item("sub/gen.yaml", kptGenerator, false)}, "")

	out, err := k.run(input, fn.OutputStdout, k.dir)
	if err != nil || len(outputItems(t, out)) != 2 {
		t.Fatalf("from the package root: error %v; want the generator and its Secret:\n%s", err, out)
	}
	_, err = k.run(input, fn.OutputStdout, t.TempDir())
	want := "kpt fn eval passes functions no package path, so paths resolve against the working directory: run kpt fn eval from the package root" +
		" (with --image, also mount it where the image works: --mount type=bind,src=\"$PWD\",dst=/work)"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `envs[0] "app.env.encrypted"`) {
		t.Errorf("from elsewhere: error = %v, want the missing file and %q", err, want)
	}
}

// TestKptSelection: a KMSSecretGenerator functionConfig (configPath,
// --fn-config) runs that generator only; any other runs them all, in one
// batch of KMS calls; references are rewritten in the Secret's namespace
// only.
func TestKptSelection(t *testing.T) {
	k := newKptPackage(t)
	k.encrypt("a/app.env.encrypted", "A=1\n")
	k.encrypt("b/app.env.encrypted", "B=2\n")
	genB := strings.Replace(strings.Replace(kptGenerator, "name: app-secrets", "name: other", 1), "metadata:", "metadata:\n  namespace: prod", 1)
	items := []string{
		k.item("a/gen.yaml", kptGenerator, true),
		k.item("b/gen.yaml", genB, true),
		k.item("deploy.yaml", kptDeployment, true),
		k.item("prod.yaml", strings.Replace(strings.ReplaceAll(kptDeployment, "app-secrets", "other"), "{name: app}", "{name: app, namespace: prod}", 1), true),
		k.item("staging.yaml", strings.Replace(strings.ReplaceAll(kptDeployment, "app-secrets", "other"), "{name: app}", "{name: app, namespace: staging}", 1), true),
	}
	tests := []struct {
		name           string
		functionConfig string
		wantSecrets    []string
		wantCalls      int
	}{
		{"configPath selects one", kptGenerator, []string{"app-secrets"}, 1},
		{"eval's empty config runs all", "metadata: {name: function-input}\ndata: {}\n", []string{"app-secrets", "other"}, 2},
		{"no config runs all", "", []string{"app-secrets", "other"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := k.fake.Calls("Decrypt")
			out, err := k.run(k.resourceList(items, tc.functionConfig), fn.OutputStdout, t.TempDir())
			if err != nil {
				t.Fatalf("Process: %v\n%s", err, out)
			}
			_, got := parseOutput(t, out)
			var secrets []string
			refs := map[string]string{}
			for _, it := range got {
				switch it.GetKind() {
				case "Secret":
					secrets = append(secrets, it.GetAnnotations()[fn.GeneratorAnnotation])
				case "Deployment":
					refs[it.GetNamespace()] = secretRefOf(t, it)
				}
			}
			if diff := cmp.Diff(tc.wantSecrets, secrets); diff != "" {
				t.Errorf("Secrets by generator (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(refs[""], "app-secrets-") || refs["staging"] != "other" {
				t.Errorf("references: %v; want app-secrets hashed and staging's untouched", refs)
			}
			if hashed := strings.HasPrefix(refs["prod"], "other-"); hashed != (len(tc.wantSecrets) == 2) {
				t.Errorf("prod's reference is %q", refs["prod"])
			}
			if n := k.fake.Calls("Decrypt") - before; n != tc.wantCalls {
				t.Errorf("Decrypt calls = %d, want %d", n, tc.wantCalls)
			}
		})
	}
}

func TestKptNoGenerator(t *testing.T) {
	k := newKptPackage(t)
	out, err := k.run(k.resourceList([]string{k.item("deploy.yaml", kptDeployment, true)}, ""), fn.OutputStdout, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no KMSSecretGenerator in the package (1 resources)") {
		t.Errorf("error = %v", err)
	}
	if len(outputItems(t, out)) != 1 {
		t.Errorf("the package must come back as it was:\n%s", out)
	}
}
