package cli

import (
	"encoding/base64"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestNamespacedGeneratorMessages: every command names a generator in
// namespace prod as "prod/app", once (reencrypt once named it
// "prod/prod/app").
func TestNamespacedGeneratorMessages(t *testing.T) {
	const key = "66666666-6666-6666-6666-666666666666"
	fake := kmstest.Start(t, kmstest.NewKey(key, "alias/ns"), kmstest.NewKey(reNewKey, "alias/new"))
	ct := base64.StdEncoding.EncodeToString(fake.Encrypt(key, nil, []byte(canary)))
	generator := func(body string) string {
		return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: app\n  namespace: prod\n" + body
	}
	tests := []struct {
		name string
		body string // the generator's fields
		args []string
		code int
		// want is in the output (stdout and stderr) exactly once.
		want string
	}{
		{"reencrypt done", "literals: [A=" + ct + "]\nkms: {keyId: alias/ns}\n",
			[]string{"reencrypt", "--key-id", "alias/new", "gen.yaml"}, ExitOK, `updated gen.yaml: KMSSecretGenerator "prod/app": kms.keyId alias/new`},
		{"reencrypt failure", "literals: [A=" + ct + "]\nkms: {keyId: alias/new}\n",
			[]string{"reencrypt", "--key-id", "alias/ns", "gen.yaml"}, ExitFailed, `gen.yaml: KMSSecretGenerator "prod/app": literals[0] (inline) (key "A"): it was not encrypted under the pinned key`},
		{"reencrypt invalid generator", "literals: [NOEQUALS]\n",
			[]string{"reencrypt", "--key-id", "alias/new", "gen.yaml"}, ExitFailed, `gen.yaml: KMSSecretGenerator "prod/app": literals[0]: want KEY=<ciphertext of the value>`},
		{"check ok", "literals: [A=" + ct + "]\n",
			[]string{"check", "gen.yaml"}, ExitOK, `ok   gen.yaml: KMSSecretGenerator "prod/app" (1 source)`},
		{"check failure", "literals: [A=" + ct + "]\nkms: {keyId: alias/new}\n",
			[]string{"check", "gen.yaml"}, ExitFailed, `FAIL gen.yaml: KMSSecretGenerator "prod/app" (1 source)`},
		{"build failure", "literals: [A=" + ct + "]\nkms: {keyId: alias/new}\n",
			[]string{"build", "gen.yaml"}, ExitFailed, `gen.yaml: KMSSecretGenerator "prod/app": literals[0]`},
		{"build invalid generator", "kms: {keyID: alias/ns}\n",
			[]string{"build", "gen.yaml"}, ExitFailed, `gen.yaml: KMSSecretGenerator "prod/app": unknown field "kms.keyID"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			testfiles.Write(t, dir, map[string]string{"gen.yaml": generator(tc.body)})
			code, stdout, stderr := runMain(t, "", tc.args...)
			out := stdout + stderr
			if code != tc.code || strings.Count(out, tc.want) != 1 {
				t.Errorf("exit %d, want %d; output does not hold once %q:\n%s", code, tc.code, tc.want, out)
			}
			if strings.Contains(out, "prod/prod") {
				t.Errorf("the namespace is repeated:\n%s", out)
			}
		})
	}
}
