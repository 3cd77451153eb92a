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

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

const (
	testKey = "11111111-1111-1111-1111-111111111111"
	canary  = "CANARY-cli-plaintext"
)

// encryptEnv starts a fake KMS with testKey as alias/app and returns it.
func encryptEnv(t *testing.T) *fakekms.Server {
	t.Helper()
	fake := kmstest.Start(t, kmstest.NewKey(testKey, "alias/app"))
	t.Setenv(awskms.EnvConcurrency, "")
	return fake
}

func runMain(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	if strings.Contains(stderr.String(), canary) {
		t.Errorf("stderr holds the plaintext: %q", stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

// decryptText decrypts a ciphertext text kmsgen printed.
func decryptText(t *testing.T, text string, context map[string]string) string {
	t.Helper()
	ct, err := ciphertext.Parse([]byte(text), false)
	if err != nil {
		t.Fatalf("parsing %q: %v", text, err)
	}
	kms := awskms.New(awskms.Options{})
	plaintext, err := kms.Decrypt(t.Context(), awskms.Target{Context: context}, ct.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Envelope != nil {
		if plaintext, err = ct.Envelope.Open(plaintext, context); err != nil {
			t.Fatal(err)
		}
	}
	return string(plaintext)
}

func TestEncryptStdinAndFile(t *testing.T) {
	encryptEnv(t)
	ctx := map[string]string{"app": "x", "env": "prod"}
	code, out, stderr := runMain(t, canary, "encrypt", "--key-id", "alias/app", "--context", "app=x", "--context", "env=prod")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasSuffix(out, "=\n") && !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("output %q is not one line of base64", out)
	}
	if got := decryptText(t, out, ctx); got != canary {
		t.Errorf("decrypted %q", got)
	}

	file := filepath.Join(t.TempDir(), "big.bin")
	big := bytes.Repeat([]byte(canary), 300) // over 4096 bytes: an envelope
	if err := os.WriteFile(file, big, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runMain(t, "", "encrypt", "--key-id", "alias/app", "--context", "app=x", "--context", "env=prod", file)
	if code != ExitOK || !strings.HasPrefix(out, "-----BEGIN KMSGEN ENVELOPE-----\n") {
		t.Fatalf("exit %d, output %.60q: %s", code, out, stderr)
	}
	if got := decryptText(t, out, ctx); got != string(big) {
		t.Error("the envelope does not decrypt to the file")
	}
}

func TestEncryptUsage(t *testing.T) {
	encryptEnv(t)
	gen := filepath.Join(t.TempDir(), "gen.yaml")
	testfiles.Write(t, filepath.Dir(gen), map[string]string{"gen.yaml": "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\nkms: {keyId: alias/app, encryptionContext: {app: x}}\n"})
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no key", "x", []string{"encrypt"}, ExitUsage, "no key: give --key-id"},
		{"bad context", "x", []string{"encrypt", "--key-id", "alias/app", "--context", "novalue"}, ExitUsage, `--context "novalue": want k=v, k1=v1,k2=v2 or JSON`},
		{"repeated context", "x", []string{"encrypt", "--key-id", "alias/app", "--context", "a=1", "--context", "a=2"}, ExitUsage, `--context: key "a" given twice`},
		{"not a KMS ARN", "x", []string{"encrypt", "--key-id", "arn:aws:s3:::b"}, ExitUsage, "is not a KMS key or alias ARN"},
		{"generator without literal", "x", []string{"encrypt", "--generator", gen}, ExitUsage, "--generator and --literal go together"},
		{"invalid literal key", "x", []string{"encrypt", "--generator", gen, "--literal", "a b"}, ExitUsage, `--literal "a b"`},
		{"prompt with a file", "", []string{"encrypt", "--key-id", "alias/app", "--prompt", "f"}, ExitUsage, "--prompt reads the terminal"},
		{"two files", "", []string{"encrypt", "--key-id", "alias/app", "a", "b"}, ExitUsage, "at most one FILE"},
		{"key contradicts the generator", "x", []string{"encrypt", "--generator", gen, "--literal", "K", "--key-id", "alias/other"}, ExitUsage, "contradicts kms.keyId"},
		{"context contradicts the generator", "x", []string{"encrypt", "--generator", gen, "--literal", "K", "--context", "app=y"}, ExitUsage, "contradicts kms.encryptionContext"},
		{"empty input", "", []string{"encrypt", "--key-id", "alias/app"}, ExitFailed, "nothing to encrypt: the plaintext is empty"},
		{"unknown key", "x", []string{"encrypt", "--key-id", "alias/missing"}, ExitFailed, "NotFoundException"},
		{"missing file", "", []string{"encrypt", "--key-id", "alias/app", "/nonexistent/plain"}, ExitFailed, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runMain(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.want)
			}
			if out != "" {
				t.Errorf("stdout %q on failure", out)
			}
		})
	}
}

func TestEncryptIntoGenerator(t *testing.T) {
	encryptEnv(t)
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"gen.yaml": `apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: s
literals:
- KEEP=unchanged   # a comment that stays
kms:
  keyId: alias/app
  encryptionContext: {app: x}
`})
	gen := filepath.Join(dir, "gen.yaml")
	if code, out, stderr := runMain(t, canary+"-1", "encrypt", "--generator", gen, "--literal", "TOKEN"); code != ExitOK || out != "set literal TOKEN in "+gen+"\n" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, stderr)
	}
	code, _, stderr := runMain(t, canary+"-2\n", "encrypt", "--generator", gen, "--literal", "TOKEN")
	if code != ExitOK || !strings.Contains(stderr, "warning: the value of TOKEN ends with a newline") {
		t.Errorf("replacing with a trailing newline: exit %d, stderr %q; want success and a warning", code, stderr)
	}
	content, _ := os.ReadFile(gen)
	if !strings.Contains(string(content), "- KEEP=unchanged # a comment that stays\n") || strings.Count(string(content), "TOKEN=") != 1 {
		t.Errorf("the generator after two writes:\n%s", content)
	}
	token := strings.SplitN(strings.SplitN(string(content), "- TOKEN=", 2)[1], "\n", 2)[0]
	if got := decryptText(t, token, map[string]string{"app": "x"}); got != canary+"-2\n" {
		t.Errorf("TOKEN decrypts to %q", got)
	}
}

func TestEncryptNewGenerator(t *testing.T) {
	encryptEnv(t)
	env := "# app settings\nDB_PASSWORD=" + canary + "\nURL=https://x/?a=b\n\nQUOTED=\"kept\"\n"
	code, out, stderr := runMain(t, env, "encrypt", "--key-id", "alias/app", "--context", "app=x", "--new-generator", "app-secrets")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Count(out, "\n- ") != 3 || !strings.Contains(out, "  name: app-secrets\n") || !strings.Contains(out, "  keyId: alias/app\n") {
		t.Errorf("generator:\n%s", out)
	}
	secrets, err := (&fn.Generator{KMS: awskms.New(awskms.Options{})}).Standalone(t.Context(),
		[]fn.GeneratorFile{{Name: "gen.yaml", Content: []byte(out), Root: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range secrets[0].GetDataMap() {
		b, _ := base64.StdEncoding.DecodeString(v)
		got[k] = string(b)
	}
	if diff := cmp.Diff(map[string]string{"DB_PASSWORD": canary, "URL": "https://x/?a=b", "QUOTED": `"kept"`}, got); diff != "" {
		t.Errorf("the generator's Secret (-want +got):\n%s", diff)
	}

	for _, bad := range []struct{ env, want string }{
		{"A=1\nBARE\n", "line 2 has an empty value"},
		{canary + "\nA=1\n", "line 1 has an empty value"}, // a secret typed where a key belongs
		{"A=1\nA=2\n", "line 2: the key (not shown: it was read from secret content) repeats the key from line 1"},
		{"A=1\n" + canary + " x=1\n", "line 2: invalid Secret key"},
	} {
		code, out, stderr := runMain(t, bad.env, "encrypt", "--key-id", "alias/app", "--new-generator", "g")
		if code != ExitFailed || out != "" || !strings.Contains(stderr, bad.want) {
			t.Errorf("env %q: exit %d, stdout %q, stderr %q; want %q", bad.env, code, out, stderr, bad.want)
		}
	}
}
