package tests

import (
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// reencryptFile is what reencryptSnapshot holds of a file.
type reencryptFile struct {
	Content string
	Mode    fs.FileMode
}

// reencryptSnapshot maps every file under dir to its content and mode.
func reencryptSnapshot(t *testing.T, dir string) map[string]reencryptFile {
	t.Helper()
	files := map[string]reencryptFile{}
	check(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = reencryptFile{string(b), info.Mode().Perm()}
		return err
	}))
	return files
}

// TestReencryptEmulators rotates a kustomization (an env file as text, a
// raw file, an envelope made by kmsgen encrypt, an inline literal) to a new
// key and a new context with the real binary, then builds it with the real
// kustomize: same Secret, now decrypted under the new key alone.
func TestReencryptEmulators(t *testing.T) {
	big := `{"blob": "` + canary + strings.Repeat("-big", 1200) + `"}` // over 4096 bytes: an envelope
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			ctx := t.Context()
			oldARN, err := k.CreateKey(ctx, "alias/"+uniqueName("rotate-old"))
			check(t, err)
			newARN, err := k.CreateKey(ctx, "alias/"+uniqueName("rotate-new"))
			check(t, err)
			env := append(baseEnv(), k.Env()...)
			oldCtx := map[string]string{"app": "old"}
			enc := func(plaintext string) []byte {
				blob, err := k.Encrypt(ctx, oldARN, oldCtx, []byte(plaintext))
				check(t, err)
				return blob
			}

			dir := t.TempDir()
			plain := filepath.Join(t.TempDir(), "big.json") // outside the tree
			check(t, os.WriteFile(plain, []byte(big), 0o600))
			envelope := run(t, dir, env, nil, "kmsgen", "encrypt", "--key-id", oldARN, "--context", "app=old", plain)
			if envelope.code != 0 || !strings.HasPrefix(envelope.stdout, "-----BEGIN KMSGEN ENVELOPE-----") {
				t.Fatalf("kmsgen encrypt: exit %d, %s", envelope.code, envelope.stderr)
			}
			// The generator pins the key ARN: local-kms enforces key states only then.
			testfiles.Write(t, dir, map[string]string{
				"kustomization.yaml": "generators: [secrets.yaml]\n",
				"app.env.encrypted":  base64.StdEncoding.EncodeToString(enc("DB_PASSWORD="+canary+"-db\nAPI_URL=https://example.test\n")) + "\n",
				"tls.key.raw":        string(enc(canary + "-tls")),
				"big.json.encrypted": envelope.stdout,
				"secrets.yaml": "# rotated by kmsgen reencrypt\n" + execGenerator("app-secrets") +
					"envs: [app.env.encrypted]\nfiles: [tls.key=tls.key.raw, big.json.encrypted]\nliterals:\n- API_TOKEN=" +
					base64.StdEncoding.EncodeToString(enc(canary+"-token")) + " # inline\nkms:\n  keyId: " + oldARN + "\n  encryptionContext: {app: old}\n",
			})
			check(t, os.Chmod(filepath.Join(dir, "tls.key.raw"), 0o600))
			before := kustomizeBuild(t, dir, env)
			if before.code != 0 {
				t.Fatalf("kustomize build before rotating: %s", before.stderr)
			}
			wantData := map[string]string{"DB_PASSWORD": canary + "-db", "API_URL": "https://example.test", "API_TOKEN": canary + "-token", "tls.key": canary + "-tls", "big.json": big}
			if got := secretData(t, before.stdout); len(got) != 1 || !cmp.Equal(wantData, got[nameIn(t, before.stdout)]) {
				t.Fatalf("Secret before rotating = %v", got)
			}
			original := t.TempDir()
			for name, f := range reencryptSnapshot(t, dir) {
				check(t, os.WriteFile(filepath.Join(original, name), []byte(f.Content), f.Mode))
			}
			snap := reencryptSnapshot(t, dir)

			res := run(t, dir, env, nil, "kmsgen", "reencrypt", "--key-id", newARN, "--context", "app=new", "--context", "env=prod", ".")
			if res.code != 0 {
				t.Fatalf("kmsgen reencrypt: exit %d, %s", res.code, res.stderr)
			}
			wantOut := `reencrypted app.env.encrypted (text)
reencrypted secrets.yaml literals[0] (inline text)
reencrypted tls.key.raw (raw)
reencrypted big.json.encrypted (envelope, body sealed again for the new context)
updated secrets.yaml: KMSSecretGenerator "app-secrets": kms.keyId ` + newARN + `, kms.encryptionContext {"app":"new","env":"prod"}
done: 4 ciphertexts (3 in files, 1 inline) of 1 generator now under ` + newARN + `, encryption context {"app":"new","env":"prod"}
`
			if diff := cmp.Diff(wantOut, res.stdout); diff != "" {
				t.Errorf("reencrypt stdout (-want +got):\n%s", diff)
			}
			assertNoCanary(t, res.stdout, res.stderr)

			// Every file changed, in its form and mode; the generator kept
			// its comments and now pins the new key and context.
			after := reencryptSnapshot(t, dir)
			for name, f := range snap {
				if name == "kustomization.yaml" {
					continue
				}
				if after[name].Content == f.Content || after[name].Mode != f.Mode {
					t.Errorf("%s: changed %v, mode %v; want changed, mode %v", name, after[name].Content != f.Content, after[name].Mode, f.Mode)
				}
			}
			for name, form := range map[string]ciphertext.Form{"app.env.encrypted": ciphertext.Text, "tls.key.raw": ciphertext.Raw, "big.json.encrypted": ciphertext.Envelope} {
				ct, err := ciphertext.Parse([]byte(after[name].Content), true)
				if err != nil || ct.Form != form {
					t.Errorf("%s: form %v (%v), want %v", name, ct.Form, err, form)
				}
			}
			gen := after["secrets.yaml"].Content
			for _, want := range []string{"# rotated by kmsgen reencrypt\n", " # inline\n", "kms:\n  keyId: " + newARN + "\n  encryptionContext: {app: new, env: prod}\n"} {
				if !strings.Contains(gen, want) {
					t.Errorf("secrets.yaml does not contain %q:\n%s", want, gen)
				}
			}
			// KMS itself says the text ciphertext is now under the new key.
			keyID := sh(t, dir, env, `aws kms decrypt --ciphertext-blob fileb://<(base64 -d app.env.encrypted) --encryption-context app=new,env=prod --query KeyId --output text`)
			if strings.TrimSpace(keyID) != newARN {
				t.Errorf("aws kms decrypt: KeyId %q, want the new key %s", keyID, newARN)
			}

			// Same Secret (same data, so the same hashed name) from the new key.
			rotated := kustomizeBuild(t, dir, env)
			if rotated.code != 0 {
				t.Fatalf("kustomize build after rotating: %s", rotated.stderr)
			}
			if diff := cmp.Diff(before.stdout, rotated.stdout); diff != "" {
				t.Errorf("kustomize build output changed (-before +after):\n%s", diff)
			}

			if name != "local-kms" {
				// moto decrypts under a disabled key (it does not enforce key
				// states), so disabling the old key there would prove nothing;
				// the KeyId check above is what shows the move on moto.
				return
			}
			check(t, k.DisableKey(ctx, oldARN))
			afterDisable := kustomizeBuild(t, dir, env)
			if afterDisable.code != 0 {
				t.Fatalf("kustomize build with the old key disabled: %s", afterDisable.stderr)
			}
			if afterDisable.stdout != before.stdout {
				t.Errorf("output with the old key disabled differs:\n%s", afterDisable.stdout)
			}
			// The tree as it was before the rotation needs the old key, and
			// local-kms now refuses it: the disabled key was really off.
			old := kustomizeBuild(t, original, env)
			if old.code == 0 || !strings.Contains(old.stderr, "DisabledException") {
				t.Errorf("building the unrotated copy with the old key disabled: exit %d, stderr %s; want DisabledException", old.code, old.stderr)
			}
		})
	}
}

// TestReencryptAllOrNothing runs the binary against the in-process fake KMS
// failing the 2nd ReEncrypt: exit 1, the failure named, every file as it was.
func TestReencryptAllOrNothing(t *testing.T) {
	const oldKey, newKey = "44444444-4444-4444-4444-444444444444", "55555555-5555-5555-5555-555555555555"
	fake := kmstest.Start(t, kmstest.NewKey(oldKey, "alias/old"), kmstest.NewKey(newKey, "alias/new"))
	reEncrypts := 0
	fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
		if c.Operation != "ReEncrypt" {
			return nil
		}
		if reEncrypts++; reEncrypts == 2 {
			return &fakekms.Fault{Code: "AccessDeniedException", Message: "injected"}
		}
		return nil
	})
	env := append(baseEnv(), awstest.Env(fake.URL)...)
	enc := func(s string) string { return base64.StdEncoding.EncodeToString(fake.Encrypt(oldKey, nil, []byte(s))) }
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"kustomization.yaml": "generators: [secrets.yaml]\n",
		"a.env.encrypted":    enc("A="+canary) + "\n",
		"b.env.encrypted":    enc("B="+canary) + "\n",
		"secrets.yaml":       execGenerator("app-secrets") + "envs: [a.env.encrypted, b.env.encrypted]\nliterals: [C=" + enc(canary) + "]\nkms: {keyId: alias/old}\n",
	})
	check(t, os.Chmod(filepath.Join(dir, "a.env.encrypted"), 0o600))
	before := reencryptSnapshot(t, dir)

	res := run(t, dir, env, nil, "kmsgen", "reencrypt", "--key-id", "alias/new", ".")
	if res.code != 1 {
		t.Errorf("exit code = %d, want 1", res.code)
	}
	wantErr := `kmsgen: secrets.yaml: KMSSecretGenerator "app-secrets": envs[1] "b.env.encrypted": access denied: kms:ReEncrypt`
	lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], wantErr) || lines[1] != "kmsgen: 1 of 3 ciphertexts could not be re-encrypted; no file was changed" {
		t.Errorf("stderr = %q, want the failure (%q...) and the summary", res.stderr, wantErr)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing", res.stdout)
	}
	assertNoCanary(t, res.stdout, res.stderr)
	if diff := cmp.Diff(before, reencryptSnapshot(t, dir)); diff != "" {
		t.Errorf("files changed (-before +after):\n%s", diff)
	}
	if reEncrypts != 3 {
		t.Errorf("ReEncrypt calls = %d, want 3 (all tried, so that every failure is listed)", reEncrypts)
	}
}
