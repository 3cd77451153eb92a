package genfile

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

const gen = "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: %s\n"

func generator(name string) string { return strings.ReplaceAll(gen, "%s", name) }

func TestFind(t *testing.T) {
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"app/kustomization.yaml": "generators:\n- secrets/gen.yaml\n- local.yaml\n",
		"app/secrets/gen.yaml":   generator("in-subdir"),
		"app/local.yaml":         "# comment\n" + generator("local") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
		"kpt/pkg/gen.yml":        generator("kpt"),
		"kpt/pkg/deploy.yaml":    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
		".hidden/gen.yaml":       generator("hidden"),
		"app/notes.txt":          generator("not-yaml"),
		// kustomize loads no generator from outside its root: not a listing.
		"other/Kustomization":        "generators: [../kpt/pkg/gen.yml]\n",
		"app/mentions-the-kind.yaml": "# a KMSSecretGenerator lives elsewhere\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
	})
	gens, err := Find([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	type found struct{ Name, File, Root, Kustomization string }
	var got []found
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		r, _ := filepath.Rel(dir, p)
		return r
	}
	for _, g := range gens {
		got = append(got, found{g.Node.GetName(), rel(g.File.Path), rel(g.Root), rel(g.Kustomization)})
	}
	slices.SortFunc(got, func(a, b found) int { return strings.Compare(a.Name, b.Name) })
	want := []found{
		{"in-subdir", "app/secrets/gen.yaml", "app", "app/kustomization.yaml"},
		{"kpt", "kpt/pkg/gen.yml", "kpt/pkg", ""},
		{"local", "app/local.yaml", "app", "app/kustomization.yaml"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("generators (-want +got):\n%s", diff)
	}

	if _, err := Find([]string{filepath.Join(dir, "kpt/pkg/deploy.yaml")}); err == nil || !strings.Contains(err.Error(), "holds no KMSSecretGenerator") {
		t.Errorf("a file without a generator: %v", err)
	}
	one, err := Find([]string{filepath.Join(dir, "app/local.yaml"), filepath.Join(dir, "app")})
	if err != nil || len(one) != 2 {
		t.Errorf("a file and its directory: %d generators, %v; want each generator once", len(one), err)
	}
}

func TestEditKeepsFormatting(t *testing.T) {
	dir := t.TempDir()
	original := `# the app's secrets
apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app # the Secret's name
literals:
  - A=old   # rotated yearly
  - B=keep
kms:
  keyId: alias/old
`
	path := filepath.Join(dir, "gen.yaml")
	testfiles.Write(t, dir, map[string]string{"gen.yaml": original})
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g := f.Generators()[0]
	for _, err := range []error{
		SetLiteral(g, "A", "new\n"),
		SetLiteral(g, "C", "-----BEGIN X-----\nline\n-----END X-----\n"),
		SetKMS(g, "alias/new", map[string]string{"app": "x"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	content, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := `# the app's secrets
apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app # the Secret's name
literals:
  - A=new # rotated yearly
  - B=keep
  - |-
    C=-----BEGIN X-----
    line
    -----END X-----
kms:
  keyId: alias/new
  encryptionContext:
    app: x
`
	if diff := cmp.Diff(want, string(content)); diff != "" {
		t.Errorf("edited file (-want +got):\n%s", diff)
	}
}

func TestIsExec(t *testing.T) {
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"exec.yaml":      strings.Replace(generator("e"), "metadata:\n", "metadata:\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: kmsgen\n", 1),
		"container.yaml": strings.Replace(generator("c"), "metadata:\n", "metadata:\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: x\n", 1),
		"plain.yaml":     generator("p"),
	})
	gens, err := Find([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, g := range gens {
		got[g.Node.GetName()] = g.IsExec()
	}
	if diff := cmp.Diff(map[string]bool{"e": true, "c": false, "p": false}, got); diff != "" {
		t.Errorf("IsExec (-want +got):\n%s", diff)
	}
}
