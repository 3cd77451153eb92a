package fn_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/secret"
)

// TestKustomizeYAMLMatchesMarshalJSON: KustomizeYAML writes what the
// kyaml MarshalJSON route writes, for the Secrets kmsgen makes and for
// YAML of every scalar kind.
func TestKustomizeYAMLMatchesMarshalJSON(t *testing.T) {
	built, err := secret.Build(secret.Spec{Name: "s", Namespace: "ns", Type: "kubernetes.io/tls",
		Options: &types.GeneratorOptions{Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"n": "1"}, Immutable: true},
		Data:    map[string]string{"true": "x", "53": "\xff\x00", "k": string(make([]byte, 200))}})
	if err != nil {
		t.Fatal(err)
	}
	nodes := []*yaml.RNode{built, yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1', b: 'true', n: null}\nlist: [1, true, x, null, {a: b}]\n")}
	var want bytes.Buffer
	for i, rn := range nodes {
		j, err := rn.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		y, err := sigsyaml.JSONToYAML(j)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			want.WriteString("---\n")
		}
		want.Write(y)
	}
	got, err := fn.KustomizeYAML(nodes)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), string(got)); diff != "" {
		t.Errorf("(-MarshalJSON route +KustomizeYAML):\n%s", diff)
	}
}
