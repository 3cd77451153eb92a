package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

const (
	reOldKey = "11111111-1111-1111-1111-111111111111" // alias/old
	reNewKey = "22222222-2222-2222-2222-222222222222" // alias/new
	reCanary = "CANARY-cli-reencrypt"
)

// reencryptTree starts a fake KMS with alias/old and alias/new, and writes,
// in a new working directory, a kustomization whose generator has a
// ciphertext file, a raw file, an envelope and an inline literal under
// alias/old with context app=old.
func reencryptTree(t *testing.T) (*fakekms.Server, string) {
	t.Helper()
	fake := kmstest.Start(t, kmstest.NewKey(reOldKey, "alias/old"), kmstest.NewKey(reNewKey, "alias/new"))
	t.Setenv(awskms.EnvConcurrency, "")
	t.Setenv(awskms.EnvTimeout, "")
	dir := t.TempDir()
	t.Chdir(dir)
	old := map[string]string{"app": "old"}
	enc := func(s string) []byte { return fake.Encrypt(reOldKey, old, []byte(s)) }
	testfiles.Write(t, dir, map[string]string{
		"app/kustomization.yaml":    "generators: [secrets.yaml]\n",
		"app/app.env.encrypted":     base64.StdEncoding.EncodeToString(enc("A="+reCanary)) + "\n",
		"app/tls.key.raw":           string(enc(reCanary + "-key")),
		"app/secrets.yaml":          "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: app-secrets\nenvs: [app.env.encrypted]\nfiles: [tls.key=tls.key.raw]\nliterals:\n- TOKEN=" + base64.StdEncoding.EncodeToString(enc(reCanary+"-token")) + "\nkms:\n  keyId: alias/old\n  encryptionContext: {app: old}\n",
		"app/notes/other.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
		"empty/kustomization.yaml":  "resources: []\n",
		"empty/not-a-generator.txt": "KMSSecretGenerator\n",
	})
	return fake, dir
}

func runReencrypt(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append([]string{"reencrypt"}, args...), strings.NewReader(""), &stdout, &stderr)
	for _, out := range []string{stdout.String(), stderr.String()} {
		if strings.Contains(out, reCanary) {
			t.Errorf("output holds a plaintext: %q", out)
		}
	}
	return code, stdout.String(), stderr.String()
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestReencryptCommandLine(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // the whole of stderr
	}{
		{"no path", []string{"--key-id", "alias/new"}, ExitUsage,
			"kmsgen: reencrypt needs at least one PATH: a generator file or a directory\n"},
		{"no key", []string{"app"}, ExitUsage,
			"kmsgen: --key-id is required: the key to move the ciphertexts to\n"},
		{"not a KMS key", []string{"--key-id", "arn:aws:s3:::bucket", "app"}, ExitUsage,
			`kmsgen: --key-id: "arn:aws:s3:::bucket" is not a KMS key or alias ARN (want arn:aws:kms:REGION:ACCOUNT:key/ID or …:alias/NAME)` + "\n"},
		{"context without =", []string{"--key-id", "alias/new", "--context", "app", "app"}, ExitUsage,
			"kmsgen: --context \"app\": want k=v, k1=v1,k2=v2 or JSON {\"k\":\"v\"}\n"},
		{"context key twice", []string{"--key-id", "alias/new", "--context", "a=1", "--context", "a=2", "app"}, ExitUsage,
			"kmsgen: --context: key \"a\" given twice\n"},
		{"region is the generator's", []string{"--key-id", "alias/new", "--region", "us-east-1", "app"}, ExitUsage,
			"kmsgen: unknown flag: --region\n"},
		{"missing path", []string{"--key-id", "alias/new", "missing"}, ExitFailed,
			"kmsgen: stat DIR/missing: no such file or directory\n"},
		{"a file that is not a generator", []string{"--key-id", "alias/new", "app/notes/other.yaml"}, ExitFailed,
			"kmsgen: app/notes/other.yaml holds no KMSSecretGenerator\n"},
		{"no generator in a directory", []string{"--key-id", "alias/new", "empty"}, ExitFailed,
			"kmsgen: no KMSSecretGenerator found in empty\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, dir := reencryptTree(t)
			before := readTree(t, dir)
			code, stdout, stderr := runReencrypt(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d", code, tc.code)
			}
			if diff := cmp.Diff(tc.stderr, strings.ReplaceAll(stderr, dir, "DIR")); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if n := fake.Calls("ReEncrypt"); n != 0 {
				t.Errorf("ReEncrypt calls = %d, want 0", n)
			}
			if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestReencryptHelp(t *testing.T) {
	code, stdout, _ := runReencrypt(t, "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"reencrypt --key-id NEWKEY [--context k=v]... PATH...", "kms:ReEncryptFrom", "All or nothing",
		"Exit codes: 0 done (or nothing to do), 1", "kmsgen reencrypt --key-id alias/myproject-2026 .", "--context stringArray"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help does not contain %q:\n%s", want, stdout)
		}
	}
}

func TestReencryptOutput(t *testing.T) {
	fake, dir := reencryptTree(t)
	code, stdout, stderr := runReencrypt(t, "--key-id", "alias/new", "--context", "env=prod", "--context", "app=new", ".")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := `reencrypted app/app.env.encrypted (text)
reencrypted app/secrets.yaml literals[0] (inline text)
reencrypted app/tls.key.raw (raw)
updated app/secrets.yaml: KMSSecretGenerator "app-secrets": kms.keyId alias/new, kms.encryptionContext {"app":"new","env":"prod"}
done: 3 ciphertexts (2 in files, 1 inline) of 1 generator now under alias/new, encryption context {"app":"new","env":"prod"}
`
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	gen := readTree(t, dir)["app/secrets.yaml"]
	if !strings.Contains(gen, "kms:\n  keyId: alias/new\n  encryptionContext: {app: new, env: prod}\n") {
		t.Errorf("generator's kms block not updated:\n%s", gen)
	}

	// Again: nothing to do, and nothing called.
	calls := fake.Calls("ReEncrypt")
	code, stdout, stderr = runReencrypt(t, "--key-id", "alias/new", "--context", "app=new,env=prod", "app/secrets.yaml") // the shorthand: the same context
	if code != ExitOK || stderr != "" {
		t.Fatalf("second run: exit %d, stderr %q", code, stderr)
	}
	want = `unchanged app/secrets.yaml: KMSSecretGenerator "app-secrets": already on kms.keyId alias/new, kms.encryptionContext {"app":"new","env":"prod"}
nothing to do: every generator already uses kms.keyId alias/new, kms.encryptionContext {"app":"new","env":"prod"}
`
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("second run stdout (-want +got):\n%s", diff)
	}
	if n := fake.Calls("ReEncrypt"); n != calls {
		t.Errorf("second run made %d ReEncrypt calls", n-calls)
	}
}

func TestReencryptFailureChangesNothing(t *testing.T) {
	tests := []struct {
		name   string
		fault  fakekms.FaultFunc
		edit   map[string]string // files to overwrite before running
		stderr string
	}{
		{name: "the 2nd ReEncrypt fails",
			fault: func() fakekms.FaultFunc {
				n := 0
				return func(c fakekms.Call) *fakekms.Fault {
					if c.Operation == "ReEncrypt" {
						if n++; n == 2 {
							return &fakekms.Fault{Code: "AccessDeniedException", Message: "injected"}
						}
					}
					return nil
				}
			}(),
			stderr: `kmsgen: app/secrets.yaml: KMSSecretGenerator "app-secrets": literals[0] (inline) (key "TOKEN"): access denied: kms:ReEncrypt on key alias/old in region eu-west-1 (AccessDeniedException: injected); grant the identity running kmsgen kms:ReEncrypt on that key (IAM policy and key policy; a kms:EncryptionContext condition must match kms.encryptionContext), and check that kms.keyId names the key the ciphertext was made with
kmsgen: 1 of 3 ciphertexts could not be re-encrypted; no file was changed
`},
		{name: "every ReEncrypt denied alike: said once, with the ciphertexts",
			fault: func(c fakekms.Call) *fakekms.Fault {
				if c.Operation == "ReEncrypt" {
					return &fakekms.Fault{Code: "AccessDeniedException", Message: "injected"}
				}
				return nil
			},
			stderr: `kmsgen: app/secrets.yaml: KMSSecretGenerator "app-secrets": access denied: kms:ReEncrypt on key alias/old in region eu-west-1 (AccessDeniedException: injected); grant the identity running kmsgen kms:ReEncrypt on that key (IAM policy and key policy; a kms:EncryptionContext condition must match kms.encryptionContext), and check that kms.keyId names the key the ciphertext was made with (3 sources: envs[0] "app.env.encrypted", literals[0] (inline) (key "TOKEN") and files[0] "tls.key.raw" (key "tls.key"))
kmsgen: 3 of 3 ciphertexts could not be re-encrypted; no file was changed
`},
		{name: "two problems before any call",
			edit: map[string]string{"app/app.env.encrypted": "A=" + reCanary + "\n", "app/tls.key.raw": ""},
			stderr: `kmsgen: app/secrets.yaml: KMSSecretGenerator "app-secrets": envs[0] "app.env.encrypted": readable text that is not base64, so not a KMS ciphertext: was the plaintext committed instead of its ciphertext? It was not sent to KMS; encrypt it with ` + "`aws kms encrypt --query CiphertextBlob --output text`" + `
kmsgen: app/secrets.yaml: KMSSecretGenerator "app-secrets": files[0] "tls.key.raw" (key "tls.key"): empty: there is no ciphertext
kmsgen: 2 problems found before any KMS call; no file was changed
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, dir := reencryptTree(t)
			testfiles.Write(t, dir, tc.edit)
			before := readTree(t, dir)
			fake.SetFault(tc.fault)
			code, stdout, stderr := runReencrypt(t, "--key-id", "alias/new", "app")
			if code != ExitFailed {
				t.Errorf("exit code = %d, want %d", code, ExitFailed)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if diff := cmp.Diff(tc.stderr, stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
		})
	}
}
