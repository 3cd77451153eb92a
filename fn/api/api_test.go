package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const full = `
apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app-secrets
  namespace: prod
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: kmsgen
behavior: merge
type: kubernetes.io/tls
envs:
- app.env.encrypted
- ciphertext: QUJD
files:
- tls.crt=certs/tls.crt.encrypted
- certs/tls.key.encrypted
- {key: ca.crt, ciphertext: REVG}
literals:
- API_TOKEN=AQICAHh
- QUOTED="AQICAHh"
options:
  labels: {team: a}
  annotations: {note: b}
  disableNameSuffixHash: true
  immutable: true
kms:
  keyId: arn:aws:kms:eu-west-1:111122223333:alias/myproject
  region: eu-west-1
  encryptionContext: {app: myproject}
  endpoint: https://kms.example.test
  roleArn: arn:aws:iam::111122223333:role/decrypt
`

func decode(t *testing.T, text string) (*KMSSecretGenerator, error) {
	t.Helper()
	return Decode(yaml.MustParse(text))
}

func TestDecodeFull(t *testing.T) {
	g, err := decode(t, full)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	sources, err := g.Validate()
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := &KMSSecretGenerator{
		APIVersion: APIVersion, Kind: Kind,
		Metadata: Metadata{Name: "app-secrets", Namespace: "prod", Annotations: map[string]string{
			"config.kubernetes.io/function": "exec:\n  path: kmsgen\n"}},
		Behavior: "merge", Type: "kubernetes.io/tls",
		Envs: []EnvSource{{Path: "app.env.encrypted"}, {Ciphertext: "QUJD"}},
		Files: []FileSource{
			{Spec: "tls.crt=certs/tls.crt.encrypted"}, {Spec: "certs/tls.key.encrypted"},
			{Key: "ca.crt", Ciphertext: "REVG"}},
		Literals: []string{"API_TOKEN=AQICAHh", `QUOTED="AQICAHh"`},
		Options: &types.GeneratorOptions{Labels: map[string]string{"team": "a"},
			Annotations: map[string]string{"note": "b"}, DisableNameSuffixHash: true, Immutable: true},
		KMS: KMS{KeyID: "arn:aws:kms:eu-west-1:111122223333:alias/myproject", Region: "eu-west-1",
			EncryptionContext: map[string]string{"app": "myproject"}, Endpoint: "https://kms.example.test",
			RoleARN: "arn:aws:iam::111122223333:role/decrypt"},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
	wantSources := []Source{
		{Kind: Env, Field: "envs[0]", Path: "app.env.encrypted"},
		{Kind: Env, Field: "envs[1]", Ciphertext: "QUJD"},
		{Kind: Literal, Field: "literals[0]", Key: "API_TOKEN", Ciphertext: "AQICAHh"},
		{Kind: Literal, Field: "literals[1]", Key: "QUOTED", Ciphertext: "AQICAHh"},
		{Kind: File, Field: "files[0]", Key: "tls.crt", Path: "certs/tls.crt.encrypted"},
		{Kind: File, Field: "files[1]", Key: "tls.key", Path: "certs/tls.key.encrypted"},
		{Kind: File, Field: "files[2]", Key: "ca.crt", Ciphertext: "REVG"},
	}
	if diff := cmp.Diff(wantSources, sources); diff != "" {
		t.Errorf("Validate sources (-want +got):\n%s", diff)
	}
}

const head = "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\n"

func TestDecodeIsStrict(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown top-level field", "envz: [a]", `unknown field "envz"`},
		{"wrong case gets a suggestion", "kms: {keyID: alias/x}", `unknown field "kms.keyID" in KMSSecretGenerator: did you mean "keyId"?`},
		{"unknown option", "options: {disableHash: true}", `unknown field "options.disableHash"`},
		{"unknown field in an inline env", "envs: [{ciphertext: QUJD, key: x}]", `unknown field "envs[0].key"`},
		{"path is not a field of an env entry", "envs: [{path: a}]", `unknown field "envs[0].path"`},
		{"unknown metadata field", "spec: {}", `unknown field "spec"`},
		{"list where a string goes", "type: [a]", `field "type" of KMSSecretGenerator must be a string, not a list`},
		{"string where a list goes", "envs: app.env.encrypted", `field "envs" of KMSSecretGenerator must be a list, not a scalar`},
		{"scalar where a mapping goes", "kms: alias/x", `field "kms" of KMSSecretGenerator must be a mapping, not a scalar`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, head+tc.body)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // problems, in order; nil means valid
	}{
		{"minimal", head, nil},
		{"wrong kind", "apiVersion: kmsgen.dev/v1alpha1\nkind: SecretGenerator\nmetadata: {name: s}", []string{
			"apiVersion/kind is kmsgen.dev/v1alpha1/SecretGenerator; want kmsgen.dev/v1alpha1/KMSSecretGenerator"}},
		{"no name", "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {}", []string{
			"metadata.name: required: it is the name of the generated Secret"}},
		{"bad behavior", head + "behavior: upsert", []string{`behavior: "upsert": want create, merge or replace`}},
		{"every source problem at once", head + `
envs: [{}, ../app.env.encrypted]
literals: [NOEQUALS, =AQIC, "EMPTY=", "bad key=AQIC", "Q=''"]
files: ["a=b=c", "=p", "k=", /etc/passwd, "sub/../../x", {key: k}, {ciphertext: QUJD}, {}, .encrypted, "..x=f"]
`, []string{
			"envs[0]: give a path or {ciphertext: ...}",
			"literals[0]: want KEY=<ciphertext of the value>, found no '='",
			"literals[1]: want KEY=<ciphertext of the value>, the key is empty",
			`literals[2]: key "EMPTY" has no ciphertext`,
			`literals[3]: key "bad key": key may contain only letters, digits, '-', '_' and '.'`,
			`literals[4]: key "Q" has no ciphertext`,
			`files[0]: "a=b=c": the key or the path contains '='`,
			`files[1]: "=p": missing key before '='`,
			`files[2]: "k=": missing path after '='`,
			`files[3]: path "/etc/passwd" must be relative to the kustomization root and stay inside it`,
			`files[5]: key "k" has no ciphertext`,
			"files[6]: an inline ciphertext needs a key",
			`files[7]: give "[key=]path" or {key: ..., ciphertext: ...}`,
			`files[8]: key "": empty key`,
			`files[9]: key "..x": key may not start with ".."`,
		}},
		{"KSOPS annotations", "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: s\n  annotations:\n    kustomize.config.k8s.io/needs-hash: 'false'\n    kustomize.config.k8s.io/behavior: merge\n", []string{
			"metadata.annotations[kustomize.config.k8s.io/needs-hash]: kustomize reads this annotation only on a generator's output, so on a KMSSecretGenerator it would do nothing: to name the Secret without the hash suffix, set options.disableNameSuffixHash: true, and remove the annotation",
			"metadata.annotations[kustomize.config.k8s.io/behavior]: kustomize reads this annotation only on a generator's output, so on a KMSSecretGenerator it would do nothing: to merge into or replace a Secret of a base, set behavior: merge or behavior: replace, and remove the annotation",
		}},
		{"kms key id not a KMS ARN", head + "kms: {keyId: 'arn:aws:s3:::bucket'}", []string{
			`kms.keyId: "arn:aws:s3:::bucket" is not a KMS key or alias ARN (want arn:aws:kms:REGION:ACCOUNT:key/ID or …:alias/NAME)`}},
		{"kms endpoint not a URL", head + "kms: {endpoint: kms.local}", []string{
			`kms.endpoint: "kms.local": want an http(s) URL such as https://kms.eu-west-1.amazonaws.com`}},
		{"kms role not a role", head + "kms: {roleArn: 'arn:aws:iam::1:user/x'}", []string{
			`kms.roleArn: "arn:aws:iam::1:user/x" is not an IAM role ARN (want arn:aws:iam::ACCOUNT:role/NAME)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := decode(t, tc.text)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var got []string
			if _, err := g.Validate(); err != nil {
				for _, p := range err.(*ValidationError).Problems {
					got = append(got, p.String())
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestID(t *testing.T) {
	tests := []struct{ namespace, name, id string }{
		{"", "s", "s"},
		{"prod", "s", "prod/s"},
	}
	for _, tc := range tests {
		g := &KMSSecretGenerator{Metadata: Metadata{Name: tc.name, Namespace: tc.namespace}}
		if got := g.ID(); got != tc.id {
			t.Errorf("ID of %s/%s = %q, want %q", tc.namespace, tc.name, got, tc.id)
		}
		rn := yaml.MustParse("apiVersion: v1\nkind: Secret\nmetadata: {name: " + tc.name + "}\n")
		if tc.namespace != "" {
			if err := rn.SetNamespace(tc.namespace); err != nil {
				t.Fatal(err)
			}
		}
		if got := IDOf(rn); got != tc.id {
			t.Errorf("IDOf = %q, want %q", got, tc.id)
		}
		if ns, name := SplitID(tc.id); ns != tc.namespace || name != tc.name {
			t.Errorf("SplitID(%q) = %q, %q", tc.id, ns, name)
		}
	}
}

func TestIsGenerator(t *testing.T) {
	tests := []struct {
		doc  string
		want bool
	}{
		{head, true},
		{"apiVersion: kmsgen.dev/v1beta1\nkind: KMSSecretGenerator\nmetadata: {name: s}\n", false},
		{"apiVersion: kmsgen.dev/v1alpha1\nkind: Secret\nmetadata: {name: s}\n", false},
	}
	for _, tc := range tests {
		if got := IsGenerator(yaml.MustParse(tc.doc)); got != tc.want {
			t.Errorf("IsGenerator(%q) = %v, want %v", tc.doc, got, tc.want)
		}
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct{ in, want, quote string }{
		{`"abc"`, "abc", `"`},
		{`'abc'`, "abc", "'"},
		{`"abc'`, `"abc'`, ""},
		{`"`, `"`, ""},
		{`abc`, "abc", ""},
		{`""`, "", `"`},
	}
	for _, tc := range tests {
		if got, q := Unquote(tc.in), Quote(tc.in); got != tc.want || q != tc.quote {
			t.Errorf("Unquote/Quote(%q) = %q, %q; want %q, %q", tc.in, got, q, tc.want, tc.quote)
		}
	}
}

func TestValidateARNs(t *testing.T) {
	tests := []struct {
		keyID string
		ok    bool
	}{
		{"1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{"alias/app", true},
		{"arn:aws:kms:eu-west-1:111122223333:key/1234abcd", true},
		{"arn:aws:kms:eu-west-1:111122223333:alias/app", true},
		{"arn:aws:s3:::bucket", false},
		{"arn:aws:kms:eu-west-1:111122223333:grant/x", false},
		{"arn:broken", false},
	}
	for _, tc := range tests {
		if err := ValidateKeyID(tc.keyID); (err == nil) != tc.ok {
			t.Errorf("ValidateKeyID(%q) = %v, want ok=%v", tc.keyID, err, tc.ok)
		}
	}
	if err := ValidateRoleARN("arn:aws:iam::111122223333:role/decrypt"); err != nil {
		t.Errorf("ValidateRoleARN(role) = %v", err)
	}
	if err := ValidateRoleARN("arn:aws:iam::111122223333:user/x"); err == nil {
		t.Error("ValidateRoleARN(user) = nil, want an error")
	}
}

// TestDecodeRefusesAliasBombs: a generator whose aliases expand past
// limits.Generator is refused before it is decoded: one 1 MiB anchor used
// 5000 times, and nested aliases that double at each level.
func TestDecodeRefusesAliasBombs(t *testing.T) {
	wide := head + "kms:\n  encryptionContext:\n    a: &big " + strings.Repeat("x", 1<<20) + "\n" +
		"literals:\n" + strings.Repeat("- *big\n", 5000)
	deep := head + "kms:\n  encryptionContext:\n    l0: &l0 [x, x]\n"
	for i := 1; i < 40; i++ {
		deep += fmt.Sprintf("    l%d: &l%d [*l%d, *l%d]\n", i, i, i-1, i-1)
	}
	for name, text := range map[string]string{"wide": wide, "deep": deep} {
		_, err := decode(t, text)
		if err == nil || !strings.Contains(err.Error(), "larger than 16 MiB once its YAML aliases are expanded") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
