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
	out, err := Run(k, files)
	if err != nil {
		t.Fatalf("kustomize: %v", err)
	}
	return out
}

// Run is Build that returns kustomize's error instead of failing: for
// tests that compare kmsgen's refusals with kustomize's.
func Run(k types.Kustomization, files map[string]string) (string, error) {
	fs := filesys.MakeFsInMemory()
	body, err := yaml.Marshal(k)
	if err != nil {
		return "", err
	}
	if err := fs.WriteFile("/app/kustomization.yaml", body); err != nil {
		return "", err
	}
	for name, content := range files {
		if err := fs.WriteFile("/app/"+name, []byte(content)); err != nil {
			return "", err
		}
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/app")
	if err != nil {
		return "", err
	}
	out, err := m.AsYaml()
	return string(out), err
}

// Reparsed returns what kustomize makes of resource, given as YAML text, as
// it reads a function's output.
func Reparsed(t testing.TB, resource string) string {
	t.Helper()
	return Build(t, types.Kustomization{Resources: []string{"resource.yaml"}}, map[string]string{"resource.yaml": resource})
}
