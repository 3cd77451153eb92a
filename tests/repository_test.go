package tests

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// The repository tests: kmsgen on whole repositories under the real
// kustomize and kpt (issue: see the repository as kustomize, kpt and Argo
// CD see it).

const (
	repoOldKey = "77777777-7777-7777-7777-777777777777" // alias/old
	repoNewKey = "88888888-8888-8888-8888-888888888888" // alias/new
)

// repoFake starts a fake KMS with alias/old and alias/new and returns it
// with the environment for kmsgen, kustomize and kpt.
func repoFake(t *testing.T) (*fakekms.Server, []string) {
	t.Helper()
	fake := kmstest.Start(t, kmstest.NewKey(repoOldKey, "alias/old"), kmstest.NewKey(repoNewKey, "alias/new"))
	return fake, append(baseEnv(), awstest.Env(fake.URL)...)
}

// sealed is the ciphertext text of plaintext under the old key.
func sealed(fake *fakekms.Server, plaintext string) string {
	return base64.StdEncoding.EncodeToString(fake.Encrypt(repoOldKey, nil, []byte(plaintext)))
}

const kptfileRunningKmsgen = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: {name: %s}\npipeline:\n  mutators:\n  - exec: kmsgen\n"

func kptfileNamed(name string) string { return strings.Replace(kptfileRunningKmsgen, "%s", name, 1) }

func deploymentReferring(name, secret string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + "}\nspec:\n  template:\n    spec:\n      containers:\n" +
		"      - name: app\n        image: app\n        envFrom:\n        - secretRef: {name: " + secret + "}\n"
}

// kptGeneratorDoc is a generator for kpt: paths relative to its file.
func kptGeneratorDoc(name, body string) string {
	return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name +
		"\n  annotations: {config.kubernetes.io/local-config: 'true'}\n" + body
}

// secretRefs maps each Deployment of a rendered output to the Secret its
// envFrom names.
func deploymentRefs(t *testing.T, out string) map[string]string {
	t.Helper()
	nodes, err := (&kioReader{text: out}).read()
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]string{}
	for _, rn := range nodes {
		if rn.GetKind() == "Deployment" {
			refs[rn.GetName()] = secretRefs(t, rn.MustString())[0]
		}
	}
	return refs
}

// TestKptSubpackagesKeepTheirSecrets: a package and its subpackage both
// have a generator app-secrets, with different values, and a Deployment
// referring to it. Rendering the parent gives two Secrets, each
// Deployment pointing at its own package's.
func TestKptSubpackagesKeepTheirSecrets(t *testing.T) {
	fake, env := repoFake(t)
	dir := t.TempDir()
	gen := kptGeneratorDoc("app-secrets", "envs: [app.env.encrypted]\n")
	testfiles.Write(t, dir, map[string]string{
		"parent/Kptfile":                 kptfileNamed("parent"),
		"parent/deploy.yaml":             deploymentReferring("parent-app", "app-secrets"),
		"parent/gen.yaml":                gen,
		"parent/app.env.encrypted":       sealed(fake, "WHO=parent-"+canary+"\n"),
		"parent/child/Kptfile":           kptfileNamed("child"),
		"parent/child/deploy.yaml":       deploymentReferring("child-app", "app-secrets"),
		"parent/child/gen.yaml":          gen,
		"parent/child/app.env.encrypted": sealed(fake, "WHO=child-"+canary+"\n"),
	})
	res := run(t, dir, append(env, "KMSGEN_OUTPUT=stdout"), nil, "kpt", "fn", "render", "--allow-exec", "-o", "unwrap", "parent")
	if res.code != 0 {
		t.Fatalf("kpt fn render: exit %d\n%s", res.code, res.stderr)
	}
	who := map[string]string{} // Secret name → WHO
	for name, data := range secretData(t, res.stdout) {
		who[name] = data["WHO"]
	}
	if len(who) != 2 {
		t.Fatalf("%d Secrets, want 2 (one per package):\n%s", len(who), res.stdout)
	}
	got := map[string]string{}
	for deployment, secret := range deploymentRefs(t, res.stdout) {
		got[deployment] = who[secret]
	}
	want := map[string]string{"parent-app": "parent-" + canary, "child-app": "child-" + canary}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the value each Deployment gets (-want +got):\n%s", diff)
	}
}

// TestKptSubpackageSecretStaysInItsPackage: rendered in place, each
// package's Secret file is beside its generator, whether the subpackage or
// the parent is rendered.
func TestKptSubpackageSecretStaysInItsPackage(t *testing.T) {
	fake, env := repoFake(t)
	dir := t.TempDir()
	optIn := "kpt: {allowPlaintextInPackage: true}\n"
	testfiles.Write(t, dir, map[string]string{
		"parent/Kptfile":          kptfileNamed("parent"),
		"parent/gen.yaml":         kptGeneratorDoc("parent-secret", "literals: [A="+sealed(fake, "parent")+"]\n"+optIn),
		"parent/child/Kptfile":    kptfileNamed("child"),
		"parent/child/gen.yaml":   kptGeneratorDoc("child-secret", "literals: [A="+sealed(fake, "child")+"]\n"+optIn),
		"parent/child/.gitignore": "*.kmsgen-secret.yaml\n",
		"parent/.gitignore":       "*.kmsgen-secret.yaml\n",
	})
	secretFiles := func() []string {
		var files []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".kmsgen-secret.yaml") {
				rel, _ := filepath.Rel(dir, p)
				files = append(files, rel)
			}
			return err
		})
		return files
	}
	for _, step := range []struct {
		target string
		want   []string
	}{
		{"parent/child", []string{"parent/child/child-secret.kmsgen-secret.yaml"}},
		{"parent", []string{"parent/child/child-secret.kmsgen-secret.yaml", "parent/parent-secret.kmsgen-secret.yaml"}},
		{"parent", []string{"parent/child/child-secret.kmsgen-secret.yaml", "parent/parent-secret.kmsgen-secret.yaml"}},
	} {
		res := run(t, dir, env, nil, "kpt", "fn", "render", "--allow-exec", step.target)
		if res.code != 0 {
			t.Fatalf("kpt fn render %s: exit %d\n%s", step.target, res.code, res.stderr)
		}
		if diff := cmp.Diff(step.want, secretFiles()); diff != "" {
			t.Errorf("after rendering %s, Secret files (-want +got):\n%s", step.target, diff)
		}
	}
	child, err := os.ReadFile(filepath.Join(dir, "parent/child/child-secret.kmsgen-secret.yaml"))
	if err != nil || !strings.Contains(string(child), "name: child-secret-") {
		t.Errorf("the child's Secret file (%v):\n%s", err, child)
	}
}

// TestKptDanglingReferenceWarning: a custom workload's secretName that kmsgen
// cannot rewrite is reported, naming the object and the field.
func TestKptDanglingReferenceWarning(t *testing.T) {
	fake, env := repoFake(t)
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"pkg/Kptfile":  kptfileNamed("pkg"),
		"pkg/gen.yaml": kptGeneratorDoc("server-config", "literals: [A="+sealed(fake, canary)+"]\n"),
		"pkg/cloneset.yaml": "apiVersion: apps.kruise.io/v1alpha1\nkind: CloneSet\nmetadata: {name: server}\nspec:\n  template:\n    spec:\n" +
			"      containers: [{name: server, image: server}]\n      volumes:\n      - name: server-config\n        secret: {secretName: server-config}\n",
	})
	res := run(t, dir, append(env, "KMSGEN_OUTPUT=stdout"), nil, "kpt", "fn", "render", "--allow-exec", "-o", "unwrap", "pkg")
	if res.code != 0 {
		t.Fatalf("kpt fn render: exit %d\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"CloneSet server: spec.template.spec.volumes[0].secret.secretName is \"server-config\"", "options.disableNameSuffixHash"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("kpt's output does not hold %q:\n%s", want, res.stderr)
		}
	}
	if !strings.Contains(res.stdout, "secret: {secretName: server-config}\n") {
		t.Errorf("the CloneSet's field was changed:\n%s", res.stdout)
	}
	assertNoCanary(t, res.stderr)
}

// TestReencryptInlineGenerators: reencrypt moves a file-based and an inline
// generator; with the old key disabled, the overlay builds with the new one.
func TestReencryptInlineGenerators(t *testing.T) {
	fake, env := repoFake(t)
	dir := t.TempDir()
	inline := "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: inline-secrets\n" +
		"  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: kmsgen\n" +
		"literals: [B=" + sealed(fake, "inline-"+canary) + "]\nkms: {keyId: alias/old}\n"
	testfiles.Write(t, dir, map[string]string{
		"kustomization.yaml": "# the overlay\ngenerators:\n- secrets.yaml\n# inline, as a block\n- |-\n  " +
			strings.ReplaceAll(strings.TrimSpace(inline), "\n", "\n  ") + "\n",
		"secrets.yaml": execGenerator("file-secrets") + "literals: [A=" + sealed(fake, "file-"+canary) + "]\nkms: {keyId: alias/old}\n",
	})
	res := run(t, dir, env, nil, "kmsgen", "reencrypt", "--key-id", "alias/new", ".")
	if res.code != 0 || !strings.Contains(res.stdout, "done: 2 ciphertexts (0 in files, 2 inline) of 2 generators now under alias/new") {
		t.Fatalf("reencrypt: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	fake.SetKeyState(repoOldKey, fakekms.Disabled)
	built := kustomizeBuild(t, dir, env)
	if built.code != 0 {
		t.Fatalf("kustomize build with the old key disabled: exit %d\n%s", built.code, built.stderr)
	}
	got := map[string]string{}
	for name, data := range secretData(t, built.stdout) {
		for k, v := range data {
			got[strings.SplitN(name, "-", 2)[0]+"/"+k] = v
		}
	}
	if diff := cmp.Diff(map[string]string{"file/A": "file-" + canary, "inline/B": "inline-" + canary}, got); diff != "" {
		t.Errorf("Secrets (-want +got):\n%s", diff)
	}
	kustomization, _ := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	for _, want := range []string{"# the overlay\n", "# inline, as a block\n- |-\n", "kms: {keyId: alias/new}"} {
		if !strings.Contains(string(kustomization), want) {
			t.Errorf("kustomization.yaml lost %q:\n%s", want, kustomization)
		}
	}
}

// TestCheckGeneratorListedAsResource: kustomize build emits a generator
// listed under resources as an object, exit 0; check fails on it.
func TestCheckGeneratorListedAsResource(t *testing.T) {
	fake, env := repoFake(t)
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"kustomization.yaml": "resources: [secrets.yaml]\n",
		"secrets.yaml":       execGenerator("app-secrets") + "literals: [A=" + sealed(fake, canary) + "]\n",
	})
	built := kustomizeBuild(t, dir, env)
	if built.code != 0 || !strings.Contains(built.stdout, "kind: KMSSecretGenerator") || strings.Contains(built.stdout, "kind: Secret") {
		t.Fatalf("kustomize build: exit %d, want 0 with the generator emitted and no Secret:\n%s%s", built.code, built.stdout, built.stderr)
	}
	res := run(t, dir, env, nil, "kmsgen", "check", ".")
	if res.code != 1 || !strings.Contains(res.stdout, `FAIL secrets.yaml: KMSSecretGenerator "app-secrets"`) ||
		!strings.Contains(res.stdout, "listed as a resource (kustomization.yaml resources[0]): kustomize emits it as an object and never runs kmsgen") {
		t.Errorf("check: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	assertNoCanary(t, res.stdout, res.stderr)
}

// TestKSOPSAnnotationsRefused: kustomize's own generator annotations on
// the generator are refused under kustomize and kpt, naming kmsgen's field.
func TestKSOPSAnnotationsRefused(t *testing.T) {
	fake, env := repoFake(t)
	for _, tc := range []struct{ annotation, field string }{
		{"kustomize.config.k8s.io/needs-hash: 'false'", "options.disableNameSuffixHash"},
		{"kustomize.config.k8s.io/behavior: merge", "behavior: merge"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			dir := t.TempDir()
			gen := strings.Replace(execGenerator("app-secrets"), "  annotations:\n", "  annotations:\n    "+tc.annotation+"\n", 1) +
				"literals: [A=" + sealed(fake, canary) + "]\n"
			testfiles.Write(t, dir, map[string]string{
				"kustomization.yaml": "generators: [secrets.yaml]\n",
				"secrets.yaml":       gen,
				"pkg/Kptfile":        kptfileNamed("pkg"),
				"pkg/secrets.yaml":   gen,
			})
			built := kustomizeBuild(t, dir, env)
			kpt := run(t, dir, append(env, "KMSGEN_OUTPUT=stdout"), nil, "kpt", "fn", "render", "--allow-exec", "-o", "unwrap", "pkg")
			for name, r := range map[string]result{"kustomize build": built, "kpt fn render": kpt} {
				if r.code == 0 || !strings.Contains(r.stderr, tc.field) || strings.Contains(r.stdout, "kind: Secret") {
					t.Errorf("%s: exit %d, want a failure naming %s:\n%s", name, r.code, tc.field, r.stderr)
				}
				assertNoCanary(t, r.stdout, r.stderr)
			}
		})
	}
}

// TestLoadRestrictorNone: an overlay's env file in a shared directory of
// the repository builds with kustomize's LoadRestrictionsNone and kmsgen's
// opt-in, is refused without the opt-in, and outside the repository even
// with it.
func TestLoadRestrictorNone(t *testing.T) {
	fake, env := repoFake(t)
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"outside.env.encrypted":                   sealed(fake, "OUTSIDE="+canary+"\n"),
		"repo/shared/common.env.encrypted":        sealed(fake, "COMMON="+canary+"\n"),
		"repo/overlays/prod/kustomization.yaml":   "generators: [secrets.yaml]\n",
		"repo/overlays/prod/secrets.yaml":         execGenerator("app-secrets") + "envs: [../../shared/common.env.encrypted]\n",
		"repo/overlays/escape/kustomization.yaml": "generators: [secrets.yaml]\n",
		"repo/overlays/escape/secrets.yaml":       execGenerator("app-secrets") + "envs: [../../../outside.env.encrypted]\n",
	})
	sh(t, filepath.Join(dir, "repo"), env, "git init -q .")
	build := func(overlay string, extra ...string) result {
		return run(t, filepath.Join(dir, "repo/overlays", overlay), append(env, extra...), nil,
			"kustomize", "build", "--enable-alpha-plugins", "--enable-exec", "--load-restrictor", "LoadRestrictionsNone", ".")
	}
	optIn := "KMSGEN_LOAD_RESTRICTOR=LoadRestrictionsNone"
	ok := build("prod", optIn)
	if ok.code != 0 {
		t.Fatalf("with the opt-in: exit %d\n%s", ok.code, ok.stderr)
	}
	for _, data := range secretData(t, ok.stdout) {
		if data["COMMON"] != canary {
			t.Errorf("the Secret's data: %v", data)
		}
	}
	for _, tc := range []struct {
		name, overlay string
		extra         []string
		want          string
	}{
		{"without the opt-in", "prod", nil, "the path leaves the kustomization root"},
		{"outside the repository", "escape", []string{optIn}, "the path leaves the git repository"},
	} {
		res := build(tc.overlay, tc.extra...)
		if res.code == 0 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%s: exit %d, want a failure with %q:\n%s", tc.name, res.code, tc.want, res.stderr)
		}
		assertNoCanary(t, res.stdout, res.stderr)
	}
	check := run(t, filepath.Join(dir, "repo/overlays/prod"), append(env, optIn), nil, "kmsgen", "check", ".")
	if check.code != 0 {
		t.Errorf("kmsgen check with the opt-in: exit %d\n%s%s", check.code, check.stdout, check.stderr)
	}
}
