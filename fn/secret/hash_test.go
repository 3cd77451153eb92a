package secret

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"sigs.k8s.io/kustomize/api/hasher"
	"sigs.k8s.io/kustomize/api/types"
)

// TestHashMatchesKustomize: HashedName's own hash equals kustomize's
// hasher for the Secrets Build makes: empty, typed, namespaced, with
// options, long multi-line values, keys that JSON escapes.
func TestHashMatchesKustomize(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	specs := []Spec{
		{Name: "empty"},
		{Name: "typed", Type: "kubernetes.io/tls", Data: map[string]string{"tls.crt": "c", "tls.key": "k"}},
		{Name: "ns", Namespace: "prod", Data: map[string]string{"a": "1"}, Options: &types.GeneratorOptions{Labels: map[string]string{"l": "v"}, Immutable: true}},
		{Name: "html<&>", Data: map[string]string{"k<&>": "<&>", "é": "ü"}},
	}
	for i := range 20 {
		data := map[string]string{}
		for j := range rng.IntN(200) {
			b := make([]byte, rng.IntN(300))
			for k := range b {
				b[k] = byte(rng.UintN(256))
			}
			data[fmt.Sprintf("key-%d.%d_x", i, j)] = string(b)
		}
		specs = append(specs, Spec{Name: fmt.Sprintf("random-%d", i), Data: data})
	}
	for _, spec := range specs {
		rn, err := Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		want, err := (&hasher.Hasher{}).Hash(rn)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := encodeSecret(rn); !ok {
			t.Errorf("%s: encodeSecret does not handle a Secret Build made", spec.Name)
		}
		if got, err := hash(rn); err != nil || got != want {
			t.Errorf("%s: hash = %q, %v; kustomize's = %q", spec.Name, got, err, want)
		}
	}
}
