package tests

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

// canary is in every plaintext these tests encrypt; it must never show up
// anywhere but a successful stdout.
const canary = "CANARY-e2e-7c1f-PLAINTEXT"

// generatorTree returns a kustomization with one KMSSecretGenerator whose
// env file and literal hold canary values, encrypted under keyID with ctx.
func generatorTree(t *testing.T, m migration, kms string) map[string]string {
	t.Helper()
	env := m.encrypt(t, []byte("DB_PASSWORD="+canary+"-db\nAPI_URL=https://example.test\n"))
	lit := m.encrypt(t, []byte(canary+"-token"))
	return map[string]string{
		"kustomization.yaml": "generators: [generator.yaml]\n",
		"app.env.encrypted":  base64.StdEncoding.EncodeToString(env) + "\n",
		"generator.yaml": execGenerator("app-secrets") + fmt.Sprintf("envs: [app.env.encrypted]\nliterals: [API_TOKEN=%s]\nkms:\n%s",
			base64.StdEncoding.EncodeToString(lit), kms),
	}
}

// assertNoCanary fails if the canary, or its base64, is in any of texts.
func assertNoCanary(t *testing.T, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, needle := range []string{canary, base64.StdEncoding.EncodeToString([]byte(canary))[:20]} {
			if strings.Contains(text, needle) {
				t.Errorf("plaintext leaked (%q found) in:\n%s", needle, text)
			}
		}
	}
}

// secretData returns the decoded data of the Secrets in a kustomize output.
func secretData(t *testing.T, out string) map[string]map[string]string {
	t.Helper()
	nodes, err := (&kioReader{text: out}).read()
	if err != nil {
		t.Fatalf("parsing output: %v\n%s", err, out)
	}
	secrets := map[string]map[string]string{}
	for _, rn := range nodes {
		if rn.GetKind() != "Secret" {
			continue
		}
		data := map[string]string{}
		for k, v := range rn.GetDataMap() {
			plain, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("Secret %s key %s is not base64: %v", rn.GetName(), k, err)
			}
			data[k] = string(plain)
		}
		secrets[rn.GetName()] = data
	}
	return secrets
}

type kioReader struct{ text string }

func (r *kioReader) read() ([]*yaml.RNode, error) {
	var out []*yaml.RNode
	for _, doc := range strings.Split(r.text, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		rn, err := yaml.Parse(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, rn)
	}
	return out, nil
}

func TestEmulators(t *testing.T) {
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			ctx := context.Background()
			alias := "alias/" + uniqueName("e2e")
			keyARN, err := k.CreateKey(ctx, alias)
			if err != nil {
				t.Fatal(err)
			}
			otherARN, err := k.CreateKey(ctx, alias+"-other")
			if err != nil {
				t.Fatal(err)
			}
			appCtx := map[string]string{"app": "myproject"}
			env := append(baseEnv(), k.Env()...)

			t.Run("decrypts with key, alias ARN and context", func(t *testing.T) {
				for _, keyID := range []string{alias, keyARN, strings.Replace(keyARN, "key/"+keyARN[strings.LastIndex(keyARN, "/")+1:], alias, 1)} {
					dir := t.TempDir()
					testfiles.Write(t, dir, generatorTree(t, migration{kms: k, keyID: alias, context: appCtx}, fmt.Sprintf("  keyId: %s\n  encryptionContext: {app: myproject}\n", keyID)))
					res := kustomizeBuild(t, dir, env)
					if res.code != 0 {
						t.Fatalf("keyId %s: kustomize failed: %s", keyID, res.stderr)
					}
					got := secretData(t, res.stdout)
					want := map[string]string{"DB_PASSWORD": canary + "-db", "API_URL": "https://example.test", "API_TOKEN": canary + "-token"}
					var only map[string]string
					for _, data := range got {
						only = data
					}
					if len(got) != 1 || fmt.Sprint(only) != fmt.Sprint(want) {
						t.Errorf("keyId %s: Secrets = %v, want one with %v", keyID, got, want)
					}
					assertNoCanary(t, res.stderr)
				}
			})

			t.Run("assumes kms.roleArn", func(t *testing.T) {
				dir := t.TempDir()
				role := "arn:aws:iam::123456789012:role/kmsgen-decrypt"
				testfiles.Write(t, dir, generatorTree(t, migration{kms: k, keyID: alias}, "  keyId: "+alias+"\n  roleArn: "+role+"\n"))
				res := kustomizeBuild(t, dir, env)
				assertNoCanary(t, res.stderr)
				if name == "moto" { // moto serves STS on the same endpoint
					if res.code != 0 {
						t.Fatalf("kustomize failed: %s", res.stderr)
					}
					if got := secretData(t, res.stdout); len(got) != 1 {
						t.Errorf("Secrets = %v, want one", got)
					}
					if !motoAssumed(t, k.URL, role) {
						t.Errorf("moto recorded no AssumeRole of %s", role)
					}
					return
				}
				// local-kms has no STS: the assume-role step must fail, and say so.
				if res.code == 0 || !strings.Contains(res.stderr, "could not assume role "+role) {
					t.Errorf("exit %d, stderr %q; want a failure to assume the role", res.code, res.stderr)
				}
			})

			// Decrypt under a disabled or pending-deletion key: only local-kms
			// enforces key states (moto decrypts anyway), and only when the
			// key is pinned; the fake KMS covers KMS's own answers.
			disabledARN, err := k.CreateKey(ctx, alias+"-disabled")
			if err != nil {
				t.Fatal(err)
			}
			deletedARN, err := k.CreateKey(ctx, alias+"-deleted")
			if err != nil {
				t.Fatal(err)
			}
			failures := []struct {
				name    string
				only    string // run on this emulator only
				dataKey string // key the data is encrypted under; alias by default
				kms     string
				prepare func(t *testing.T)
				want    []string
			}{
				{name: "wrong encryption context", kms: "  encryptionContext: {app: other}\n",
					want: []string{"InvalidCiphertextException", `kms.encryptionContext: {"app":"other"}`}},
				{name: "no encryption context", kms: "  keyId: " + alias + "\n",
					want: []string{"InvalidCiphertextException", "kms.encryptionContext: none"}},
				{name: "another key pinned", kms: "  keyId: " + otherARN + "\n  encryptionContext: {app: myproject}\n",
					// local-kms answers InvalidCiphertextException, moto AccessDeniedException;
					// real KMS IncorrectKeyException. All must fail.
					want: []string{`KMSSecretGenerator "app-secrets": `, `envs[0] "app.env.encrypted"`}},
				{name: "missing alias", kms: "  keyId: alias/does-not-exist\n  encryptionContext: {app: myproject}\n",
					want: []string{"NotFoundException", "alias/does-not-exist was not found in region eu-west-1"}},
				{name: "disabled key", only: "local-kms", dataKey: disabledARN,
					kms:     "  keyId: " + disabledARN + "\n  encryptionContext: {app: myproject}\n",
					prepare: func(t *testing.T) { check(t, k.DisableKey(ctx, disabledARN)) },
					want:    []string{"DisabledException", "enable-key"}},
				{name: "key pending deletion", only: "local-kms", dataKey: deletedARN,
					kms:     "  keyId: " + deletedARN + "\n  encryptionContext: {app: myproject}\n",
					prepare: func(t *testing.T) { check(t, k.ScheduleDeletion(ctx, deletedARN)) },
					want:    []string{"KMSInvalidStateException", "cancel-key-deletion"}},
			}
			for _, tc := range failures {
				if tc.only != "" && tc.only != name {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					dir := t.TempDir()
					dataKey := alias
					if tc.dataKey != "" {
						dataKey = tc.dataKey
					}
					testfiles.Write(t, dir, generatorTree(t, migration{kms: k, keyID: dataKey, context: appCtx}, tc.kms))
					if tc.prepare != nil {
						tc.prepare(t)
					}
					res := kustomizeBuild(t, dir, env)
					if res.code == 0 {
						t.Fatalf("kustomize succeeded:\n%s", res.stdout)
					}
					if strings.Contains(res.stdout, "kind: Secret") {
						t.Errorf("a Secret was printed despite the failure:\n%s", res.stdout)
					}
					kmsgenLine := ""
					for _, line := range strings.Split(res.stderr, "\n") {
						if strings.HasPrefix(line, "kmsgen: ") {
							kmsgenLine = line
						}
					}
					if kmsgenLine == "" {
						t.Fatalf("no one-line kmsgen message on stderr:\n%s", res.stderr)
					}
					for _, w := range append(tc.want, `KMSSecretGenerator "app-secrets"`) {
						if !strings.Contains(kmsgenLine, w) {
							t.Errorf("stderr line %q does not contain %q", kmsgenLine, w)
						}
					}
					assertNoCanary(t, res.stdout, res.stderr)
				})
			}
		})
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// motoAssumed reports whether moto's state dump records an AssumeRole of role.
func motoAssumed(t *testing.T, url, role string) bool {
	t.Helper()
	resp, err := http.Get(url + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var state struct {
		STS struct {
			AssumedRole []struct {
				RoleARN string `json:"role_arn"`
			}
		} `json:"sts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil {
		t.Fatal(err)
	}
	for _, r := range state.STS.AssumedRole {
		if r.RoleARN == role {
			return true
		}
	}
	return false
}
