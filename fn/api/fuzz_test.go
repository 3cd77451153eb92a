package api

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/secret"
)

// FuzzDecode: decoding and validating any document never panics; what
// Validate accepts has sources whose keys are valid Secret keys and whose
// paths are relative.
func FuzzDecode(f *testing.F) {
	f.Add(full)
	f.Add(head + "envs: [a, {ciphertext: QUJD}]\nfiles: ['k=p', {key: k, ciphertext: x}]\nliterals: [A=x, 'B=\"y\"']\n")
	f.Add(head + "kms: {keyId: 'arn:aws:kms:eu-west-1:1:key/x', roleArn: 'arn:aws:iam::1:role/r', endpoint: 'http://h'}\n")
	f.Add(head + "metadata: &m {name: x}\nx: *m\n")
	f.Fuzz(func(t *testing.T, doc string) {
		rn, err := yaml.Parse(doc)
		if err != nil {
			return
		}
		g, err := Decode(rn)
		if err != nil {
			return
		}
		sources, err := g.Validate()
		if err != nil {
			return
		}
		for _, s := range sources {
			if s.Key != "" && secret.ValidateKey(s.Key) != nil {
				t.Fatalf("%s: key %q accepted", s.Field, s.Key)
			}
			if strings.HasPrefix(s.Path, "/") {
				t.Fatalf("%s: absolute path %q accepted", s.Field, s.Path)
			}
			if s.Path == "" && s.Ciphertext == "" {
				t.Fatalf("%s: neither path nor ciphertext", s.Field)
			}
		}
	})
}

// FuzzFileSource: any files: entry, as "[key=]path", parses or is refused
// with a problem naming files[0]; never a panic.
func FuzzFileSource(f *testing.F) {
	for _, seed := range []string{"a", "k=p", "=p", "k=", "a=b=c", "/etc/passwd", "../x", "x.encrypted", ".encrypted", "..x=f", "k=\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		g := &KMSSecretGenerator{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "s"}, Files: []FileSource{{Spec: spec}}}
		sources, err := g.Validate()
		if err != nil {
			if verr, ok := err.(*ValidationError); !ok || verr.Problems[0].Field != "files[0]" {
				t.Fatalf("%q: %v", spec, err)
			}
			return
		}
		if len(sources) != 1 || secret.ValidateKey(sources[0].Key) != nil || sources[0].Path == "" {
			t.Fatalf("%q: accepted as %+v", spec, sources)
		}
	})
}
