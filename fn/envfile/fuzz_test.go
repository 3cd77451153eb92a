package envfile_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/envfile"
	"kmsgen.dev/kmsgen/fn/secret"
	"kmsgen.dev/kmsgen/internal/krustytest"
)

// FuzzParse holds envfile.Parse and the Secret's key rules (secret.DataMap)
// against kustomize's own secretGenerator, run in-process as the oracle:
// when kustomize makes a Secret from an env file, kmsgen makes the same
// data; when kustomize refuses it, kmsgen refuses it too. kmsgen is
// stricter in two documented cases only: a line too long to scan, which
// kustomize takes as the end of the file, and a key the Kubernetes API
// server would refuse (kustomize writes it, and kubectl apply fails). No
// error quotes the content.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "A=1\n", "A=1\r\nB=2\r\n", "# comment\n\n  A=  spaced  \n", "BARE\nEMPTY=\n", "=====\n=value\nA=1\n",
		"\ufeffA=1\n", "A=1\n\ufeffB=2\n", "A=\"quoted\"\nB='single'\n", "A=1\nA=2\n", "bad key=1\n", "A=\xff\n",
		"URL=postgres://u:p@h/db?x=y\n", ".=1\n", "..a=1\n", "a.b-c_D=1\n", "A=1\n" + strings.Repeat("x", 70000) + "\nB=2\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		const canary = "CANARY-fuzz"
		if strings.Contains(string(content), canary) {
			return
		}
		ours, ourErr := kmsgenData(content)
		theirs, theirErr := kustomizeData(string(content))
		if ourErr == nil && mangledByKustomize(ours) {
			return // kustomize's own bug with keys YAML reads as numbers or booleans ("00", "true"): it fails or rewrites them, kmsgen keeps them
		}
		switch {
		case theirErr != nil && ourErr == nil:
			t.Fatalf("kustomize refuses (%v), kmsgen accepts %v", theirErr, ours)
		case theirErr == nil && ourErr != nil:
			var lerr *envfile.LineError
			if errors.As(ourErr, &lerr) && strings.Contains(lerr.Reason, "longer than") {
				return
			}
			if strings.Contains(ourErr.Error(), "invalid Secret key") {
				return // a key the API server refuses (kustomize writes it, or mangles it: "+0" becomes "0")
			}
			t.Fatalf("kustomize accepts %v, kmsgen refuses: %v", theirs, ourErr)
		case theirErr == nil:
			if diff := cmp.Diff(theirs, ours); diff != "" {
				t.Fatalf("data (-kustomize +kmsgen):\n%s", diff)
			}
		}
		// the same content with a canary in place of a key: the error,
		// if any, does not quote it
		if _, err := kmsgenData([]byte(canary + "\n" + string(content) + "\n" + canary + "=x\n")); err != nil && strings.Contains(err.Error(), canary) {
			t.Fatalf("the error quotes the content: %v", err)
		}
	})
}

// mangledByKustomize reports whether a key is one kustomize's builtin
// generator rewrites when it reads its own output back ("00" becomes "0",
// "true" a boolean): kmsgen tags keys as strings and keeps them as written,
// so the two differ there on purpose.
func mangledByKustomize(data map[string]string) bool {
	for k := range data {
		var v any
		if err := yaml.Unmarshal([]byte(k), &v); err != nil {
			return true
		}
		if s, ok := v.(string); !ok || s != k {
			return true
		}
	}
	return false
}

func kmsgenData(content []byte) (map[string]string, error) {
	entries, err := envfile.Parse(content)
	if err != nil {
		return nil, err
	}
	pairs := make([]secret.Pair, len(entries))
	for i, e := range entries {
		pairs[i] = secret.Pair{Key: e.Key, Value: e.Value, Origin: fmt.Sprintf("line %d", e.Line), KeyIsPlaintext: true}
	}
	return secret.DataMap(pairs)
}

func kustomizeData(content string) (map[string]string, error) {
	out, err := krustytest.Run(types.Kustomization{SecretGenerator: []types.SecretArgs{{GeneratorArgs: types.GeneratorArgs{
		Name: "s", KvPairSources: types.KvPairSources{EnvSources: []string{"app.env"}}}}}},
		map[string]string{"app.env": content})
	if err != nil {
		return nil, err
	}
	rn, err := yaml.Parse(out)
	if err != nil {
		return nil, err
	}
	data := map[string]string{}
	for k, v := range rn.GetDataMap() {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, err
		}
		data[k] = string(b)
	}
	return data, nil
}
