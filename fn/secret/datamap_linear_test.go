package secret

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestLoadSecretDataMatchesKyaml: loadSecretData writes what kyaml's
// LoadMapIntoSecretData writes, for values around the line length, empty,
// binary, multi-line, and those whose base64 YAML 1.1 would read as
// another type.
func TestLoadSecretDataMatchesKyaml(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	maps := []map[string]string{
		{},
		{"a": ""},
		{"b": "x", "a": "y", "A": "z", "_": "w", "a.b": "v"},
		{"true": "\xb6\xbb\x9e", "yes": "\x02\x7a\xac", "on": "\xa2", "num": "\xd7m\xf8"}, // base64 "truE"-like values
	}
	for _, n := range []int{51, 52, 53, 104, 105, 300, 5000} { // 52 bytes make exactly 70 base64 characters
		m := map[string]string{}
		for i := range 5 {
			b := make([]byte, n+i)
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
			m[fmt.Sprintf("k%d-%d", n, i)] = string(b)
		}
		m[fmt.Sprintf("multi-line-%d", n)] = strings.Repeat("line\n", n)
		maps = append(maps, m)
	}
	for i, m := range maps {
		want, got := yaml.MustParse("apiVersion: v1\nkind: Secret\n"), yaml.MustParse("apiVersion: v1\nkind: Secret\n")
		if err := want.LoadMapIntoSecretData(m); err != nil {
			t.Fatal(err)
		}
		if err := loadSecretData(got, m); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.MustString(), got.MustString()); diff != "" {
			t.Errorf("map %d (-kyaml +kmsgen):\n%s", i, diff)
		}
	}
}

// TestLoadSecretDataLinear builds a Secret of 10⁵ keys, which kyaml's
// quadratic field setter takes minutes for. It asserts the result, not a
// time: a quadratic return would show as a test timeout.
func TestLoadSecretDataLinear(t *testing.T) {
	m := map[string]string{}
	for i := range 100_000 {
		m[fmt.Sprintf("KEY_%06d", i)] = "v"
	}
	rn := yaml.MustParse("apiVersion: v1\nkind: Secret\n")
	if err := loadSecretData(rn, m); err != nil {
		t.Fatal(err)
	}
	if got := len(rn.Field(yaml.DataField).Value.YNode().Content) / 2; got != len(m) { // GetDataMap is quadratic too
		t.Errorf("%d keys, want %d", got, len(m))
	}
}
