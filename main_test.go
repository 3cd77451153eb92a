package main

import (
	"os/exec"
	"path/filepath"
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

// TestNoTextTemplate keeps text/template out of the linked binary (cobra
// imports it, and links it only for a custom usage, help or version
// template): the linker cannot tell which methods a template calls, so
// with it every exported method of every reachable type stays in the
// binary (kmsgen went from 14.2 to 19.0 MB with one SetVersionTemplate).
func TestNoTextTemplate(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kmsgen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		// the template executor: it calls methods by name through reflect
		if f := strings.Fields(line); len(f) == 3 && strings.HasPrefix(f[2], "text/template.(*state).") {
			t.Fatalf("text/template is linked into kmsgen (%s): a cobra template (SetUsageTemplate, SetHelpTemplate, SetVersionTemplate, Version) is set somewhere", f[2])
		}
	}
}
