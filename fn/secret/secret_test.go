package secret

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/internal/krustytest"
)

// builtin is what kustomize's own secretGenerator makes of spec.
func builtin(t *testing.T, spec Spec) string {
	t.Helper()
	files := map[string]string{}
	var sources []string
	for k, v := range spec.Data {
		files["data/"+k] = v
		sources = append(sources, k+"=data/"+k)
	}
	return krustytest.Build(t, types.Kustomization{SecretGenerator: []types.SecretArgs{{
		GeneratorArgs: types.GeneratorArgs{
			Namespace: spec.Namespace, Name: spec.Name, Options: spec.Options,
			KvPairSources: types.KvPairSources{FileSources: sources},
		},
		Type: spec.Type,
	}}}, files)
}

func TestBuildMatchesKustomize(t *testing.T) {
	long := strings.Repeat("0123456789", 12)
	binary := string([]byte{0, 1, 2, 0xff, 0xfe, '\n', 0x80})
	tests := []struct {
		name string
		spec Spec
	}{
		{"one key", Spec{Name: "s", Data: map[string]string{"A": "1"}}},
		{"no data", Spec{Name: "s", Data: map[string]string{}}},
		{"sorted keys", Spec{Name: "s", Data: map[string]string{"b": "2", "a": "1", "C": "3", "_x": "4", "-y": "5"}}},
		{"long value wraps at 70", Spec{Name: "s", Data: map[string]string{"long": long, "exactly-52-bytes": long[:52], "exactly-53-bytes": long[:53]}}},
		{"keys YAML 1.1 reads as booleans", Spec{Name: "s", Data: map[string]string{"y": "d", "yes": "e", "on": "f"}, Options: &types.GeneratorOptions{Labels: map[string]string{"n": "no"}}}},
		{"binary", Spec{Name: "s", Data: map[string]string{"bin": binary, "empty": ""}}},
		{"namespace and type", Spec{Name: "tls", Namespace: "prod", Type: "kubernetes.io/tls", Data: map[string]string{"tls.crt": "c", "tls.key": "k"}}},
		{"options", Spec{Name: "s", Data: map[string]string{"A": "1"}, Options: &types.GeneratorOptions{
			Labels: map[string]string{"b": "2", "a": "1"}, Annotations: map[string]string{"z": "1", "y": "2"}, Immutable: true}}},
		{"no hash", Spec{Name: "s", Data: map[string]string{"A": "1"}, Options: &types.GeneratorOptions{DisableNameSuffixHash: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rn, err := Build(tc.spec)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if tc.spec.Options == nil || !tc.spec.Options.DisableNameSuffixHash {
				if err := AppendHash(rn); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(builtin(t, tc.spec), krustytest.Reparsed(t, rn.MustString())); diff != "" {
				t.Errorf("Secret differs from kustomize's (-kustomize +kmsgen):\n%s", diff)
			}
		})
	}
}

// TestKeysThatLookLikeOtherTypes: kustomize's builtin fails on keys such as
// 53 or true (it cannot serialize them); kmsgen quotes them so kustomize reads
// its output back with the keys intact.
func TestKeysThatLookLikeOtherTypes(t *testing.T) {
	data := map[string]string{"53": "a", "true": "b", "null": "c", "0x1F": "d", "1e3": "e", ".5": "f"}
	rn, err := Build(Spec{Name: "s", Data: data, Options: &types.GeneratorOptions{Labels: map[string]string{"1": "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Parse(krustytest.Reparsed(t, rn.MustString()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range out.GetDataMap() {
		got[k] = v
	}
	want := map[string]string{"53": "YQ==", "true": "Yg==", "null": "Yw==", "0x1F": "ZA==", "1e3": "ZQ==", ".5": "Zg=="}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data after kustomize read it (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"1": "2"}, out.GetLabels()); diff != "" {
		t.Errorf("labels after kustomize read it (-want +got):\n%s", diff)
	}
}

func TestBuildNeedsName(t *testing.T) {
	if _, err := Build(Spec{}); err == nil {
		t.Error("Build without a name succeeded")
	}
}

func TestMarkForKustomize(t *testing.T) {
	tests := []struct {
		needsHash bool
		behavior  string
		want      map[string]string
	}{
		{true, "", map[string]string{NeedsHashAnnotation: "true"}},
		{false, "merge", map[string]string{BehaviorAnnotation: "merge"}},
		{true, "replace", map[string]string{NeedsHashAnnotation: "true", BehaviorAnnotation: "replace"}},
		{false, "", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.needsHash, tc.behavior), func(t *testing.T) {
			rn, err := Build(Spec{Name: "s"})
			if err != nil {
				t.Fatal(err)
			}
			if err := MarkForKustomize(rn, tc.needsHash, tc.behavior); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rn.GetAnnotations()); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDataMap(t *testing.T) {
	data, err := DataMap([]Pair{{Key: "A", Value: "1", Origin: "envs[0]"}, {Key: "B", Value: "2", Origin: "literals[0]"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"A": "1", "B": "2"}, data); diff != "" {
		t.Errorf("DataMap (-want +got):\n%s", diff)
	}
	_, err = DataMap([]Pair{{Key: "A", Value: "1", Origin: "envs[0] line 1"}, {Key: "A", Value: "CANARY", Origin: "files[0]"}})
	want := `files[0]: key "A" repeats the key from envs[0] line 1; every key must be unique across envs, literals and files`
	if err == nil || err.Error() != want {
		t.Errorf("repeated key error = %v, want %q", err, want)
	}
	_, err = DataMap([]Pair{{Key: "CANARY PASSWORD", Origin: "envs[0] line 3", KeyIsPlaintext: true}})
	want = "envs[0] line 3: invalid Secret key: key may contain only letters, digits, '-', '_' and '.'"
	if err == nil || err.Error() != want {
		t.Errorf("invalid key error = %v, want %q", err, want)
	}
	_, err = DataMap([]Pair{
		{Key: "CANARY", Origin: "envs[0] line 2", KeyIsPlaintext: true},
		{Key: "CANARY", Origin: "envs[0] line 3", Field: "envs[0]", KeyIsPlaintext: true},
	})
	want = "envs[0] line 3: the key (not shown: it was read from secret content) repeats the key from envs[0] line 2; every key must be unique across envs, literals and files"
	var perr *PairError
	if err == nil || err.Error() != want || !errors.As(err, &perr) || perr.Pair.Field != "envs[0]" {
		t.Errorf("repeated plaintext key error = %v, want %q from envs[0]", err, want)
	}
}

func TestValidateKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"A": true, "a.b-c_d": true, ".dotfile": true, "tls.crt": true, strings.Repeat("k", 253): true,
		"": false, ".": false, "..": false, "..x": false, "a b": false, "a/b": false, "ключ": false,
		strings.Repeat("k", 254): false, "a=b": false,
	} {
		if err := ValidateKey(key); (err == nil) != ok {
			t.Errorf("ValidateKey(%q) = %v, want ok=%v", key, err, ok)
		}
	}
}
