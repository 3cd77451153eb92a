package fn_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn"
)

// kptItem is a resource as kpt passes it: its path and, under render
// (pkg != ""), its package's absolute path.
func kptItem(t *testing.T, path, pkg, body string) string {
	t.Helper()
	rn := yaml.MustParse(body)
	for key, value := range map[string]string{"config.kubernetes.io/path": path, "internal.config.kubernetes.io/path": path,
		"config.kubernetes.io/index": "0", "internal.config.kubernetes.io/package-path": pkg} {
		if value == "" {
			continue
		}
		if err := rn.PipeE(yaml.SetAnnotation(key, value)); err != nil {
			t.Fatal(err)
		}
	}
	return "- " + strings.ReplaceAll(strings.TrimSpace(rn.MustString()), "\n", "\n  ") + "\n"
}

func kptfile(name string) string {
	return "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: {name: " + name + "}\n"
}

// TestKptSubpackages: a package and its subpackage each have a generator
// app-secrets and a Deployment referring to it. Under render (paths
// relative to each package, package paths absolute) and under eval (paths
// relative to the root, Kptfiles marking the packages), each package gets
// its own Secret, written beside its generator in its own package, and
// each Deployment points at its own package's Secret.
func TestKptSubpackages(t *testing.T) {
	k := newKptPackage(t)
	parent := k.dir
	child := filepath.Join(parent, "child")
	k.encrypt("app.env.encrypted", "WHO=parent\n")
	k.encrypt("child/app.env.encrypted", "WHO=child\n")
	parentName, childName := builtinName(t, "app-secrets", "WHO=parent\n"), builtinName(t, "app-secrets", "WHO=child\n")

	for _, mode := range []string{"render", "eval"} {
		t.Run(mode, func(t *testing.T) {
			var items []string
			if mode == "render" { // the parent's call: the child's items first, with the child's package path
				items = []string{
					kptItem(t, "Kptfile", child, kptfile("child")),
					kptItem(t, "deploy.yaml", child, kptDeployment),
					kptItem(t, "gen.yaml", child, kptGenerator),
					kptItem(t, "Kptfile", parent, kptfile("parent")),
					kptItem(t, "deploy.yaml", parent, kptDeployment),
					kptItem(t, "gen.yaml", parent, kptGenerator),
				}
			} else {
				items = []string{
					kptItem(t, "Kptfile", "", kptfile("parent")),
					kptItem(t, "child/Kptfile", "", kptfile("child")),
					kptItem(t, "child/deploy.yaml", "", kptDeployment),
					kptItem(t, "child/gen.yaml", "", kptGenerator),
					kptItem(t, "deploy.yaml", "", kptDeployment),
					kptItem(t, "gen.yaml", "", kptGenerator),
				}
			}
			out, err := k.run(k.resourceList(items, ""), fn.OutputStdout, parent)
			if err != nil {
				t.Fatalf("Process: %v\n%s", err, out)
			}
			// again, as a second render would see the first one's output
			again, err := k.run(out, fn.OutputStdout, parent)
			if err != nil || again != out {
				t.Errorf("a second run changed the output (%v):\n%s", err, cmp.Diff(out, again))
			}
			_, got := parseOutput(t, out)
			type where struct{ Path, Package, Ref string }
			placed := map[string]where{} // by Secret name, or Deployment/<path>
			for _, it := range got {
				a := it.GetAnnotations()
				pkg := a["internal.config.kubernetes.io/package-path"]
				switch it.GetKind() {
				case "Secret":
					placed[it.GetName()] = where{Path: a["config.kubernetes.io/path"], Package: pkg}
				case "Deployment":
					placed["Deployment/"+a["config.kubernetes.io/path"]+pkg] = where{Ref: secretRefOf(t, it)}
				}
			}
			want := map[string]where{
				parentName:                        {Path: "app-secrets" + fn.SecretFileSuffix, Package: parent},
				childName:                         {Path: "app-secrets" + fn.SecretFileSuffix, Package: child},
				"Deployment/deploy.yaml" + parent: {Ref: parentName},
				"Deployment/deploy.yaml" + child:  {Ref: childName},
			}
			if mode == "eval" {
				want = map[string]where{
					parentName:                     {Path: "app-secrets" + fn.SecretFileSuffix},
					childName:                      {Path: "child/app-secrets" + fn.SecretFileSuffix},
					"Deployment/deploy.yaml":       {Ref: parentName},
					"Deployment/child/deploy.yaml": {Ref: childName},
				}
			}
			if diff := cmp.Diff(want, placed); diff != "" {
				t.Errorf("Secrets and references (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKptSameSecretTwice: two generators making a Secret of the same name
// and namespace with different data fail, naming both.
func TestKptSameSecretTwice(t *testing.T) {
	k := newKptPackage(t)
	k.encrypt("a.env.encrypted", "WHO=a\n")
	k.encrypt("child/b.env.encrypted", "WHO=b\n")
	noHash := "options: {disableNameSuffixHash: true}\n"
	gen := func(env string) string {
		return strings.Replace(kptGenerator, "envs: [app.env.encrypted]\n", "envs: ["+env+"]\n", 1) + noHash
	}
	input := k.resourceList([]string{
		kptItem(t, "Kptfile", "", kptfile("parent")),
		kptItem(t, "child/Kptfile", "", kptfile("child")),
		kptItem(t, "gen.yaml", "", gen("a.env.encrypted")),
		kptItem(t, "child/gen.yaml", "", gen("b.env.encrypted")),
	}, "")
	out, err := k.run(input, fn.OutputStdout, k.dir)
	if err == nil || !strings.Contains(err.Error(), `child/gen.yaml: KMSSecretGenerator "app-secrets": its Secret app-secrets has the name and namespace of the Secret of KMSSecretGenerator "app-secrets" (gen.yaml) but other data`) {
		t.Fatalf("error = %v\n%s", err, out)
	}
	if strings.Contains(out, "kind: Secret") {
		t.Errorf("a Secret was emitted:\n%s", out)
	}
}

// TestKptDanglingReferences: a field kmsgen does not rewrite that holds the
// Secret's plain name gets a warning naming the object and the field; the
// field is left alone. Fields that merely share the name (labels, a
// volume's name) do not.
func TestKptDanglingReferences(t *testing.T) {
	k := newKptPackage(t)
	k.encrypt("app.env.encrypted", "A=1\n")
	const cloneSet = `apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
metadata:
  name: server
  labels: {app: app-secrets}
spec:
  selector: {matchLabels: {app: app-secrets}}
  template:
    metadata: {labels: {app: app-secrets}}
    spec:
      containers:
      - name: server
        image: server
        envFrom:
        - secretRef: {name: app-secrets}
      volumes:
      - name: app-secrets
        secret: {secretName: app-secrets}
`
	input := k.resourceList([]string{
		kptItem(t, "Kptfile", k.dir, kptfile("pkg")),
		kptItem(t, "deploy.yaml", k.dir, kptDeployment),
		kptItem(t, "cloneset.yaml", k.dir, cloneSet),
		kptItem(t, "gen.yaml", k.dir, kptGenerator),
	}, "")
	out, err := k.run(input, fn.OutputStdout, k.dir)
	if err != nil {
		t.Fatalf("Process: %v\n%s", err, out)
	}
	results, items := parseOutput(t, out)
	var got []string
	for _, r := range results {
		got = append(got, string(r.Severity)+" "+r.ResourceRef.Kind+"/"+r.ResourceRef.Name+" "+r.Field.Path+" "+r.File.Path)
		if !strings.Contains(r.Message, "options.disableNameSuffixHash") {
			t.Errorf("the warning does not say how to fix it: %s", r.Message)
		}
	}
	want := []string{
		"warning CloneSet/server spec.template.spec.containers[0].envFrom[0].secretRef.name cloneset.yaml",
		"warning CloneSet/server spec.template.spec.volumes[0].secret.secretName cloneset.yaml",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	for _, it := range items {
		if it.GetKind() == "CloneSet" && !strings.Contains(it.MustString(), "secret: {secretName: app-secrets}") {
			t.Errorf("the CloneSet was changed:\n%s", it.MustString())
		}
	}
}
