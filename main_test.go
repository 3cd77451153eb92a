package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestStartupImports keeps out of the binary the packages whose
// initialisation costs every kmsgen process (kustomize starts one per
// generator) time for nothing kmsgen uses: kyaml's fn/framework and the
// kube-openapi validation it pulls in (about 2.5 ms a start; fn/krm does
// the framework's part), and kustomize's whole build engine (krusty).
func TestStartupImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, banned := range []string{
		"sigs.k8s.io/kustomize/kyaml/fn/framework",
		"k8s.io/kube-openapi/pkg/validation/strfmt",
		"k8s.io/kube-openapi/pkg/validation/validate",
		"sigs.k8s.io/kustomize/api/krusty",
	} {
		if slices.Contains(deps, banned) {
			t.Errorf("kmsgen imports %s", banned)
		}
	}
}
