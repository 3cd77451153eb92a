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
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

const (
	mkKeyA   = "11111111-1111-1111-1111-111111111111" // alias/app, eu-west-1
	mkKeyB   = "22222222-2222-2222-2222-222222222222" // alias/dr, us-east-1
	mkKeyC   = "33333333-3333-3333-3333-333333333333" // alias/c, eu-west-1
	mkCanary = "CANARY-cli-multikey"
)

var mkCtx = map[string]string{"app": "x"}

// mkEnv starts a fake KMS with key A and C in eu-west-1 (the configured
// region) and B in us-east-1, and returns their ARNs.
func mkEnv(t *testing.T) (fake *fakekms.Server, arnA, arnB, arnC string) {
	t.Helper()
	fake = kmstest.Start(t)
	t.Setenv(awskms.EnvConcurrency, "")
	t.Setenv(awskms.EnvTimeout, "")
	return fake, fake.CreateKeyIn("eu-west-1", mkKeyA, "alias/app"), fake.CreateKeyIn("us-east-1", mkKeyB, "alias/dr"),
		fake.CreateKeyIn("eu-west-1", mkKeyC, "alias/c")
}

// mkOpen parses text and opens it under mkCtx, through the keys in order.
func mkOpen(t *testing.T, text string) (string, []string) {
	t.Helper()
	ct, err := ciphertext.Parse([]byte(text), true)
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	plaintext, err := fn.Open(t.Context(), awskms.New(awskms.Options{}), api.KMS{EncryptionContext: mkCtx}, ct)
	if err != nil {
		t.Fatal(err)
	}
	return string(plaintext), ct.KeyARNs()
}

func TestEncryptMultiKey(t *testing.T) {
	_, arnA, arnB, _ := mkEnv(t)
	code, out, stderr := runMain(t, mkCanary, "encrypt", "--key-id", "alias/app", "--key-id", arnB, "--context", "app=x")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, envelope.Begin+"\nVersion: 2\n") {
		t.Errorf("output is not a version 2 envelope:\n%s", out)
	}
	got, keys := mkOpen(t, out)
	if got != mkCanary {
		t.Error("the envelope does not open to the plaintext")
	}
	if diff := cmp.Diff([]string{arnA, arnB}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}

	// into a generator's literal, and a new generator
	dir := t.TempDir()
	gen := filepath.Join(dir, "secrets.yaml")
	testfiles.Write(t, dir, map[string]string{"secrets.yaml": "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: s\nkms:\n  keyId: alias/app\n  encryptionContext: {app: x}\n"})
	if code, _, stderr := runMain(t, mkCanary, "encrypt", "--generator", gen, "--literal", "TOKEN", "--key-id", "alias/app", "--key-id", "arn:aws:kms:us-east-1:111122223333:alias/dr"); code != ExitOK {
		t.Fatalf("--generator: exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(gen)
	if !strings.Contains(string(b), "Data-Key: "+arnB+" ") {
		t.Errorf("the literal is not wrapped under B:\n%s", b)
	}
	code, out, stderr = runMain(t, "A="+mkCanary+"\n", "encrypt", "--new-generator", "n", "--key-id", arnA, "--key-id", arnB, "--context", "app=x")
	if code != ExitOK || strings.Count(out, "Data-Key: ") != 2 {
		t.Errorf("--new-generator: exit %d, %s:\n%s", code, stderr, out)
	}

	// usage
	for _, args := range [][]string{
		{"encrypt", "--key-id", "alias/app", "--key-id", "arn:aws:s3:::bucket"},
		{"encrypt", "--generator", gen, "--literal", "T", "--key-id", "alias/dr", "--key-id", "alias/app"}, // contradicts kms.keyId
	} {
		if code, _, stderr := runMain(t, mkCanary, args...); code != ExitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, stderr, ExitUsage)
		}
	}
}

// mkTree writes a generator with an envelope file (version 1, under A), an
// inline multi-key envelope (A and B) and a direct ciphertext file.
func mkTree(t *testing.T, fake *fakekms.Server, arnA, arnB string) (dir string, envelopeFile string) {
	t.Helper()
	dir = t.TempDir()
	t.Chdir(dir)
	kms := awskms.New(awskms.Options{})
	big := []byte("BIG=" + strings.Repeat(mkCanary, 200) + "\n")
	dataKey := bytes.Repeat([]byte{3}, 32)
	v1, err := envelope.Seal(fake.Encrypt(arnA, mkCtx, dataKey), dataKey, mkCtx, big)
	if err != nil {
		t.Fatal(err)
	}
	inline, err := multiKeyText(t, kms, []string{arnA, arnB}, mkCanary+"-inline")
	if err != nil {
		t.Fatal(err)
	}
	testfiles.Write(t, dir, map[string]string{
		"app/kustomization.yaml": "generators: [secrets.yaml]\n",
		"app/big.env.encrypted":  string(v1.Marshal()),
		"app/secrets.yaml": "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: s\nenvs: [big.env.encrypted]\nfiles:\n- key: inline\n  ciphertext: |-\n" +
			indentLines(strings.TrimSuffix(inline, "\n"), "    ") + "\nkms:\n  keyId: alias/app\n  encryptionContext: {app: x}\n",
	})
	return dir, filepath.Join(dir, "app/big.env.encrypted")
}

func multiKeyText(t *testing.T, kms *awskms.Client, keys []string, plaintext string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := []string{"encrypt", "--context", "app=x"}
	for _, k := range keys {
		args = append(args, "--key-id", k)
	}
	if code := Main(context.Background(), args, strings.NewReader(plaintext), &stdout, &stderr); code != ExitOK {
		t.Fatalf("encrypt: exit %d: %s", code, stderr.String())
	}
	return stdout.String(), nil
}

func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// afterKeys is an envelope's text from its Nonce line on: what adding or
// removing keys must leave byte for byte.
func afterKeys(t *testing.T, text string) string {
	t.Helper()
	i := strings.Index(text, "Nonce: ")
	if i < 0 {
		t.Fatalf("no Nonce line in %q", text)
	}
	return text[i:]
}

func TestReencryptAddRemoveKeys(t *testing.T) {
	fake, arnA, arnB, arnC := mkEnv(t)
	dir, file := mkTree(t, fake, arnA, arnB)
	before, _ := os.ReadFile(file)

	// add C (an alias) to every envelope: the v1 file records A's ARN
	code, stdout, stderr := runReencrypt(t, "--add-key-id", "alias/c", "app")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"rekeyed app/big.env.encrypted (envelope, keys " + arnA + ", " + arnC + ")",
		"rekeyed app/secrets.yaml files[0] (inline envelope, keys " + arnA + ", " + arnB + ", " + arnC + ")",
		"done: 2 envelopes of 1 generator added alias/c; bodies unchanged"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	after, _ := os.ReadFile(file)
	if afterKeys(t, string(before)) != afterKeys(t, string(after)) {
		t.Error("adding a key changed the nonce, tag or body")
	}
	got, keys := mkOpen(t, string(after))
	if !strings.Contains(got, mkCanary) || !cmp.Equal(keys, []string{arnA, arnC}) {
		t.Errorf("after adding: keys %v", keys)
	}
	gen, _ := os.ReadFile(filepath.Join(dir, "app/secrets.yaml"))
	if !strings.Contains(string(gen), "keyId: alias/app") {
		t.Errorf("kms.keyId changed:\n%s", gen)
	}

	// only C can be used now for the file: remove A, then it opens with C alone
	code, _, stderr = runReencrypt(t, "--remove-key-id", arnA, "app")
	if code != ExitOK {
		t.Fatalf("remove: exit %d: %s", code, stderr)
	}
	removed, _ := os.ReadFile(file)
	if afterKeys(t, string(before)) != afterKeys(t, string(removed)) {
		t.Error("removing a key changed the nonce, tag or body")
	}
	fake.SetKeyState(mkKeyA, fakekms.Disabled)
	if _, keys := mkOpen(t, string(removed)); !cmp.Equal(keys, []string{arnC}) {
		t.Errorf("after removing: keys %v", keys)
	}
	fake.SetKeyState(mkKeyA, fakekms.Enabled)

	// nothing left to do
	code, stdout, _ = runReencrypt(t, "--remove-key-id", arnA, "app")
	if code != ExitOK || !strings.Contains(stdout, "nothing to do") {
		t.Errorf("removing again: exit %d:\n%s", code, stdout)
	}

	// refusals change nothing
	snapshot := readTree(t, dir)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--remove-key-id", arnC, "app"}, ExitFailed, "is the envelope's last key"},
		{[]string{"--add-key-id", "alias/missing", "app"}, ExitFailed, "alias/missing was not found"},
		{[]string{"--add-key-id", "alias/c", "--key-id", "alias/c", "app"}, ExitUsage, "do not go with --key-id"},
		{[]string{"--remove-key-id", "alias/c", "app"}, ExitUsage, "is not a key ARN"},
		{[]string{"--add-key-id", arnB, "--remove-key-id", arnB, "app"}, ExitUsage, "both added and removed"},
	} {
		code, _, stderr := runReencrypt(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
	if diff := cmp.Diff(snapshot, readTree(t, dir)); diff != "" {
		t.Errorf("a refused run changed files (-before +after):\n%s", diff)
	}
}

func TestReencryptAddKeyRefusesDirect(t *testing.T) {
	fake, arnA, _, _ := mkEnv(t)
	dir := t.TempDir()
	t.Chdir(dir)
	testfiles.Write(t, dir, map[string]string{
		"kustomization.yaml": "generators: [secrets.yaml]\n",
		"secrets.yaml": "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: s\nliterals:\n- T=" +
			base64.StdEncoding.EncodeToString(fake.Encrypt(arnA, mkCtx, []byte(mkCanary))) + "\nkms:\n  encryptionContext: {app: x}\n",
	})
	before := readTree(t, dir)
	code, _, stderr := runReencrypt(t, "--add-key-id", "alias/dr", ".")
	if code != ExitFailed || !strings.Contains(stderr, "a direct KMS ciphertext has exactly one key") || !strings.Contains(stderr, "multi-region key") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
		t.Errorf("files changed:\n%s", diff)
	}
}

// TestEditKeepsKeys: kmsgen edit encrypts a multi-key envelope again under
// all its keys.
func TestEditKeepsKeys(t *testing.T) {
	fake, arnA, arnB, _ := mkEnv(t)
	_, file := mkTree(t, fake, arnA, arnB)
	if code, _, stderr := runReencrypt(t, "--add-key-id", "arn:aws:kms:us-east-1:111122223333:alias/dr", "app"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Setenv("VISUAL", `sed -i 's/^BIG=/BIG=x/'`)
	code, _, stderr := runMain(t, "", "edit", "--no-terminal", file)
	if code != ExitOK {
		t.Fatalf("edit: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "again under "+arnA+", "+arnB) {
		t.Errorf("stderr %q does not name both keys", stderr)
	}
	text, _ := os.ReadFile(file)
	got, keys := mkOpen(t, string(text))
	if !strings.HasPrefix(got, "BIG=x"+mkCanary) || !cmp.Equal(keys, []string{arnA, arnB}) {
		t.Errorf("after edit: keys %v, edited %v", keys, strings.HasPrefix(got, "BIG=x"))
	}

	// and a literal: the inline multi-key envelope of mkTree is under files; edit a literal one
	dir := t.TempDir()
	inline, _ := multiKeyText(t, nil, []string{"alias/app", arnB}, mkCanary)
	gen := filepath.Join(dir, "s.yaml")
	testfiles.Write(t, dir, map[string]string{"s.yaml": "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: s\nliterals:\n- |-\n  T=" +
		strings.ReplaceAll(strings.TrimSuffix(inline, "\n"), "\n", "\n  ") + "\nkms:\n  keyId: alias/app\n  encryptionContext: {app: x}\n"})
	t.Setenv("VISUAL", `sed -i 's/CANARY/canary/'`)
	if code, _, stderr := runMain(t, "", "edit", "--no-terminal", gen, "--literal", "T"); code != ExitOK {
		t.Fatalf("edit --literal: exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(gen)
	if strings.Count(string(b), "Data-Key: ") != 2 {
		t.Errorf("the literal lost a key:\n%s", b)
	}
}

// TestMultiKeyTextconvAndRotation: textconv names an envelope's keys, and
// reencrypt --key-id refuses a multi-key envelope, pointing at the key
// flags.
func TestMultiKeyTextconvAndRotation(t *testing.T) {
	fake, arnA, arnB, _ := mkEnv(t)
	dir, _ := mkTree(t, fake, arnA, arnB)
	text, _ := multiKeyText(t, nil, []string{arnA, arnB}, "A="+mkCanary+"\n")
	file := filepath.Join(dir, "two.encrypted")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runMain(t, "", "textconv", "--context", "app=x", file)
	if code != ExitOK {
		t.Fatalf("textconv: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"# kmsgen: a multi-key envelope; its data key is wrapped under " + arnA + ", " + arnB + "\n", "\nA\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("textconv output lacks %q:\n%s", want, out)
		}
	}
	before := readTree(t, dir)
	code, _, stderr = runReencrypt(t, "--key-id", "alias/c", "app")
	if code != ExitFailed || !strings.Contains(stderr, "--add-key-id NEWKEY --remove-key-id OLDKEY") {
		t.Errorf("reencrypt --key-id on a multi-key envelope: exit %d, stderr %q", code, stderr)
	}
	if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
		t.Errorf("files changed:\n%s", diff)
	}
}
