// Package krustytest runs kustomize (its krusty library) in-process on an
// in-memory kustomization, so tests can compare kmsgen with kustomize's own
// secretGenerator, and see what kustomize makes of a resource it reads.
package krustytest

import (
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Build runs kustomize on kustomization k with files (path → content,
// relative to the kustomization root) and returns what `kustomize build`
// would print.
func Build(t testing.TB, k types.Kustomization, files map[string]string) string {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	body, err := yaml.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile("/app/kustomization.yaml", body); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := fs.WriteFile("/app/"+name, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/app")
	if err != nil {
		t.Fatalf("kustomize: %v", err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Reparsed returns what kustomize makes of resource, given as YAML text, as
// it reads a function's output.
func Reparsed(t testing.TB, resource string) string {
	t.Helper()
	return Build(t, types.Kustomization{Resources: []string{"resource.yaml"}}, map[string]string{"resource.yaml": resource})
}
