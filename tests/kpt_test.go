package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// demoSecretName is the name kustomize gives the demo Secret
// (examples/kustomize/expected-output.yaml); kpt must give the same.
func demoSecretName(t *testing.T) string {
	t.Helper()
	out, err := os.ReadFile(filepath.Join(repoRoot(t), "examples/kustomize/expected-output.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "  name: app-secrets-"); ok {
			return "app-secrets-" + name
		}
	}
	t.Fatal("no app-secrets-<hash> in examples/kustomize/expected-output.yaml")
	return ""
}

// kptPackage copies examples/kpt into a temporary directory.
func kptPackage(t *testing.T) string {
	t.Helper()
	return copyDir(t, filepath.Join(repoRoot(t), "examples/kpt"))
}

func TestKptExample(t *testing.T) {
	out := runExample(t, "kpt")
	name := demoSecretName(t)
	if strings.Count(out, "name: "+name) < 3 { // render, eval, and the Deployment's reference in the first grep
		t.Errorf("want %s from render and eval, as kustomize names it:\n%s", name, out)
	}
	if !strings.Contains(out, "refusing to emit the Secret") {
		t.Errorf("the unguarded render was not refused:\n%s", out)
	}
}

// TestKptRenderExec runs the real kpt: pipeline with and without
// configPath, and kpt fn eval, to stdout.
func TestKptRenderExec(t *testing.T) {
	env := append(append(baseEnv(), demoKMS(t).Env()...), "KMSGEN_OUTPUT=stdout")
	name := demoSecretName(t)
	tests := []struct {
		name    string
		kptfile func(string) string
		args    []string
		// from is where kpt runs: "pkg" (the package root) or "parent".
		from string
	}{
		{name: "render, every generator", args: []string{"fn", "render", "--allow-exec", "-o", "unwrap"}, from: "parent"},
		{name: "render, configPath", args: []string{"fn", "render", "--allow-exec", "-o", "unwrap"}, from: "parent",
			kptfile: func(k string) string {
				return strings.Replace(k, "  - exec: kmsgen\n", "  - exec: kmsgen\n    configPath: secrets.yaml\n", 1)
			}},
		{name: "eval from the package root", args: []string{"fn", "eval", "--exec", "kmsgen", "-o", "unwrap"}, from: "pkg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkg := kptPackage(t)
			if tc.kptfile != nil {
				rewrite(t, filepath.Join(pkg, "Kptfile"), tc.kptfile)
			}
			dir, target := filepath.Dir(pkg), filepath.Base(pkg)
			if tc.from == "pkg" {
				dir, target = pkg, "."
			}
			res := run(t, dir, env, nil, "kpt", append(tc.args, target)...)
			if res.code != 0 {
				t.Fatalf("kpt: exit %d\n%s", res.code, res.stderr)
			}
			items := secretData(t, res.stdout)
			if len(items) != 1 || items[name] == nil {
				t.Errorf("Secrets %v, want exactly %s", keys(items), name)
			}
			if !strings.Contains(res.stdout, "name: "+name+" # kmsgen rewrites") {
				t.Errorf("the Deployment's reference was not rewritten to %s:\n%s", name, res.stdout)
			}
			if !strings.Contains(res.stdout, "kind: KMSSecretGenerator") {
				t.Errorf("the generator must stay in the package:\n%s", res.stdout)
			}
		})
	}

	t.Run("eval from elsewhere names the cause", func(t *testing.T) {
		pkg := kptPackage(t)
		res := run(t, filepath.Dir(pkg), env, nil, "kpt", "fn", "eval", "--exec", "kmsgen", "-o", "unwrap", filepath.Base(pkg))
		if res.code == 0 || !strings.Contains(res.stderr, "run kpt fn eval from the package root") {
			t.Errorf("exit %d, stderr:\n%s\nwant a failure explaining where paths resolve", res.code, res.stderr)
		}
	})
}

// TestKptRenderInPlace: with kpt.allowPlaintextInPackage the Secret is
// written beside its generator; rendering again changes nothing; a changed
// value replaces the Secret and the reference.
func TestKptRenderInPlace(t *testing.T) {
	pkg := kptPackage(t)
	env := append(baseEnv(), demoKMS(t).Env()...)
	render := func() {
		t.Helper()
		if res := run(t, filepath.Dir(pkg), env, nil, "kpt", "fn", "render", "--allow-exec", filepath.Base(pkg)); res.code != 0 {
			t.Fatalf("kpt fn render: exit %d\n%s", res.code, res.stderr)
		}
	}

	before := snapshot(t, pkg)
	res := run(t, filepath.Dir(pkg), env, nil, "kpt", "fn", "render", "--allow-exec", filepath.Base(pkg))
	if res.code == 0 || !strings.Contains(res.stderr, "refusing to emit the Secret") {
		t.Fatalf("an in-place render without consent: exit %d\n%s", res.code, res.stderr)
	}
	if diff := cmp.Diff(before, snapshot(t, pkg)); diff != "" {
		t.Fatalf("the refused render changed the package (-before +after):\n%s", diff)
	}

	rewrite(t, filepath.Join(pkg, "secrets.yaml"), func(s string) string { return s + "kpt:\n  allowPlaintextInPackage: true\n" })
	render()
	first := snapshot(t, pkg)
	secretFile := first["app-secrets.kmsgen-secret.yaml"]
	if !strings.Contains(secretFile, "name: "+demoSecretName(t)) || !strings.Contains(secretFile, "kmsgen.dev/generator: 'app-secrets'") {
		t.Fatalf("app-secrets.kmsgen-secret.yaml:\n%s", secretFile)
	}
	render()
	if diff := cmp.Diff(first, snapshot(t, pkg)); diff != "" {
		t.Errorf("a second render changed the package (-first +second):\n%s", diff)
	}

	// A new value: re-encrypt the env file with the demo key.
	newEnv := sh(t, pkg, env, `printf 'DB_USER=demo\nDB_PASSWORD=rotated\n' | aws kms encrypt --key-id alias/kmsgen-demo --encryption-context app=demo --plaintext fileb:///dev/stdin --query CiphertextBlob --output text`)
	check(t, os.WriteFile(filepath.Join(pkg, "app.env.encrypted"), []byte(newEnv), 0o644))
	render()
	after := snapshot(t, pkg)
	newName := nameIn(t, after["app-secrets.kmsgen-secret.yaml"])
	if newName == demoSecretName(t) {
		t.Fatalf("the Secret kept its name after a value changed")
	}
	if !strings.Contains(after["deployment.yaml"], "name: "+newName) {
		t.Errorf("deployment.yaml does not refer to %s:\n%s", newName, after["deployment.yaml"])
	}
	var secretFiles []string
	for f, content := range after {
		if strings.Contains(content, "kind: Secret\n") {
			secretFiles = append(secretFiles, f)
		}
	}
	if diff := cmp.Diff([]string{"app-secrets.kmsgen-secret.yaml"}, secretFiles); diff != "" {
		t.Errorf("files holding a Secret (-want +got):\n%s", diff)
	}
}

func rewrite(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	check(t, err)
	check(t, os.WriteFile(path, []byte(edit(string(b))), 0o644))
}

// snapshot maps each file of dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	check(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(b)
		return err
	}))
	return files
}

func nameIn(t *testing.T, text string) string {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "name: app-secrets-"); ok {
			return "app-secrets-" + name
		}
	}
	t.Fatalf("no app-secrets-<hash> in:\n%s", text)
	return ""
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
