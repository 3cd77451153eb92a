package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

const (
	checkKey    = "55555555-5555-5555-5555-555555555555"
	checkCanary = "CANARY-check-41d7-PLAINTEXT"
)

const warnSuffix = "; kustomize build needs --enable-alpha-plugins --enable-exec, or silently leaves it out"

// checkTree is a kustomization listing two exec generators, one in a
// subdirectory (its paths relative to the kustomization), and a kpt-style
// generator whose paths are relative to its own directory; files replace
// or add files.
func checkTree(fake *fakekms.Server, files map[string]string) map[string]string {
	enc := func(plaintext string) string {
		return base64.StdEncoding.EncodeToString(fake.Encrypt(checkKey, map[string]string{"app": "a"}, []byte(plaintext)))
	}
	exec := func(name, ns string) string {
		meta := "  name: " + name + "\n"
		if ns != "" {
			meta += "  namespace: " + ns + "\n"
		}
		return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n" + meta +
			"  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: kmsgen\n"
	}
	const kms = "kms: {keyId: alias/check, encryptionContext: {app: a}}\n"
	tree := map[string]string{
		"app/kustomization.yaml":   "generators: [generator.yaml, secrets/gen.yaml]\n",
		"app/generator.yaml":       exec("app-secrets", "") + "envs: [app.env.encrypted]\nliterals: [TOKEN=" + enc("tok-"+checkCanary) + "]\n" + kms,
		"app/app.env.encrypted":    enc("DB_PASSWORD=" + checkCanary + "\n"),
		"app/secrets/gen.yaml":     exec("db", "prod") + "files: [secrets/db.encrypted]\n" + kms,
		"app/secrets/db.encrypted": enc("db-" + checkCanary),
		"pkg/Kptfile":              "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: {name: pkg}\n",
		"pkg/generator.yaml":       exec("tls", "") + "files: [tls.key.encrypted]\n" + kms,
		"pkg/tls.key.encrypted":    enc("key-" + checkCanary),
		"pkg/README.md":            "not YAML\n",
	}
	for name, content := range files {
		tree[name] = content
	}
	return tree
}

func TestCheckCommand(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(checkKey, "alias/check"))
	t.Setenv("KMSGEN_CONCURRENCY", "")
	t.Setenv("KMSGEN_TIMEOUT", "")
	dir := t.TempDir()
	t.Chdir(dir)
	testfiles.Write(t, dir+"/good", checkTree(fake, nil))
	testfiles.Write(t, dir+"/broken", checkTree(fake, map[string]string{
		"app/secrets/db.encrypted": "db password " + checkCanary + "\n",
		"pkg/generator.yaml":       "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: tls}\nbehavior: upsert\nfiles: [tls.key.encrypted, ../x.encrypted]\n",
	}))
	testfiles.Write(t, dir+"/beside", checkTree(fake, map[string]string{
		"app/app.env":   "DB_PASSWORD=" + checkCanary + "\n",                                         // the plaintext of app.env.encrypted
		"pkg/tls.key":   base64.StdEncoding.EncodeToString(fake.Encrypt(checkKey, nil, []byte("k"))), // a ciphertext: fine
		"pkg/other.enc": "not named by a generator, so not looked at",
	}))
	if err := os.Mkdir(dir+"/empty", 0o755); err != nil {
		t.Fatal(err)
	}
	warnings := func(root string) string {
		return "warn " + root + "/app/kustomization.yaml: lists the exec KMSSecretGenerator " + root + "/app/generator.yaml" + warnSuffix + "\n" +
			"warn " + root + "/app/kustomization.yaml: lists the exec KMSSecretGenerator " + root + "/app/secrets/gen.yaml" + warnSuffix + "\n"
	}
	good := `ok   good/app/generator.yaml: KMSSecretGenerator "app-secrets" (2 sources)
ok   good/app/secrets/gen.yaml: KMSSecretGenerator "prod/db" (1 source)
ok   good/pkg/generator.yaml: KMSSecretGenerator "tls" (1 source)
` + warnings("good")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // exact, unless "" with code != 0
		stderr string // exact
		// real and dry are the Decrypt calls the fake must get; -1 is unchecked.
		real, dry int
	}{
		{name: "no PATH", args: []string{"check"}, code: ExitUsage,
			stderr: "kmsgen: requires at least 1 arg(s), only received 0\n"},
		{name: "unknown flag", args: []string{"check", "--nope", "good"}, code: ExitUsage,
			stderr: "kmsgen: unknown flag: --nope\n"},
		{name: "bad --dry-run value", args: []string{"check", "--dry-run=maybe", "good"}, code: ExitUsage,
			stderr: "kmsgen: invalid argument \"maybe\" for \"--dry-run\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\n"},
		{name: "missing PATH", args: []string{"check", "missing"}, code: ExitFailed,
			stderr: "kmsgen: stat " + dir + "/missing: no such file or directory\n"},
		{name: "no generator", args: []string{"check", "empty"}, code: ExitFailed,
			stderr: "kmsgen: no KMSSecretGenerator found under empty\n"},
		{name: "a file without a generator", args: []string{"check", "good/pkg/README.md"}, code: ExitFailed,
			stderr: "kmsgen: good/pkg/README.md holds no KMSSecretGenerator\n"},
		{name: "all good", args: []string{"check", "good"}, code: ExitOK,
			stdout: good + "3 KMSSecretGenerators checked: 3 ok, 0 failed; 2 warnings\n", real: 4},
		{name: "all good, dry run", args: []string{"check", "--dry-run", "good"}, code: ExitOK,
			stdout: good + "3 KMSSecretGenerators checked: 3 ok, 0 failed; 2 warnings (--dry-run: Decrypt permission only, nothing decrypted)\n", dry: 4},
		{name: "all good, offline", args: []string{"check", "--offline", "good"}, code: ExitOK,
			stdout: good + "3 KMSSecretGenerators checked: 3 ok, 0 failed; 2 warnings (--offline: read and parsed, nothing sent to KMS)\n"},
		{name: "--offline and --dry-run", args: []string{"check", "--offline", "--dry-run", "good"}, code: ExitUsage,
			stderr: "kmsgen: --dry-run asks KMS and --offline calls no AWS API: give one of them\n"},
		{name: "a plaintext beside its ciphertext", args: []string{"check", "--offline", "beside"}, code: ExitFailed,
			stdout: `FAIL beside/app/generator.yaml: KMSSecretGenerator "app-secrets" (2 sources)
     envs[0] "app.env.encrypted": app.env beside it is not a ciphertext, so most likely the plaintext it was made from: delete it (kmsgen edit changes a ciphertext without one); if it was ever committed or shared, rotate every value in it
ok   beside/app/secrets/gen.yaml: KMSSecretGenerator "prod/db" (1 source)
ok   beside/pkg/generator.yaml: KMSSecretGenerator "tls" (1 source)
` + warnings("beside") + "3 KMSSecretGenerators checked: 2 ok, 1 failed; 2 warnings (--offline: read and parsed, nothing sent to KMS)\n",
			stderr: "kmsgen: 1 of 3 KMSSecretGenerators failed the check\n"},
		{name: "a plaintext beside its ciphertext fails the full check too", args: []string{"check", "beside/app/generator.yaml"}, code: ExitFailed,
			stdout: `FAIL beside/app/generator.yaml: KMSSecretGenerator "app-secrets" (2 sources)
     envs[0] "app.env.encrypted": app.env beside it is not a ciphertext, so most likely the plaintext it was made from: delete it (kmsgen edit changes a ciphertext without one); if it was ever committed or shared, rotate every value in it
warn beside/app/kustomization.yaml: lists the exec KMSSecretGenerator beside/app/generator.yaml` + warnSuffix + "\n" +
				"1 KMSSecretGenerator checked: 0 ok, 1 failed; 1 warning\n",
			stderr: "kmsgen: 1 of 1 KMSSecretGenerator failed the check\n", real: 2},
		{name: "one file", args: []string{"check", "good/app/secrets/gen.yaml"}, code: ExitOK,
			stdout: "ok   good/app/secrets/gen.yaml: KMSSecretGenerator \"prod/db\" (1 source)\n" +
				"warn good/app/kustomization.yaml: lists the exec KMSSecretGenerator good/app/secrets/gen.yaml" + warnSuffix + "\n" +
				"1 KMSSecretGenerator checked: 1 ok, 0 failed; 1 warning\n", real: 1},
		{name: "broken", args: []string{"check", "broken"}, code: ExitFailed,
			stdout: `ok   broken/app/generator.yaml: KMSSecretGenerator "app-secrets" (2 sources)
FAIL broken/app/secrets/gen.yaml: KMSSecretGenerator "prod/db" (1 source)
     files[0] "secrets/db.encrypted" (key "db"): ` + "readable text that is not base64, so not a KMS ciphertext: was the plaintext committed instead of its ciphertext? It was not sent to KMS; encrypt it with `aws kms encrypt --query CiphertextBlob --output text`; broken/app/kustomization.yaml runs this generator, so kustomize resolves its paths in that directory" + `
FAIL broken/pkg/generator.yaml: KMSSecretGenerator "tls"
     behavior: "upsert": want create, merge or replace
` + warnings("broken") + "3 KMSSecretGenerators checked: 1 ok, 2 failed; 2 warnings\n",
			stderr: "kmsgen: 2 of 3 KMSSecretGenerators failed the check\n", real: 2},
		{name: "broken, offline: the plaintext and the bad field, with nothing sent", args: []string{"check", "--offline", "broken"}, code: ExitFailed,
			stdout: `ok   broken/app/generator.yaml: KMSSecretGenerator "app-secrets" (2 sources)
FAIL broken/app/secrets/gen.yaml: KMSSecretGenerator "prod/db" (1 source)
     files[0] "secrets/db.encrypted" (key "db"): ` + "readable text that is not base64, so not a KMS ciphertext: was the plaintext committed instead of its ciphertext? It was not sent to KMS; encrypt it with `aws kms encrypt --query CiphertextBlob --output text`; broken/app/kustomization.yaml runs this generator, so kustomize resolves its paths in that directory" + `
FAIL broken/pkg/generator.yaml: KMSSecretGenerator "tls"
     behavior: "upsert": want create, merge or replace
` + warnings("broken") + "3 KMSSecretGenerators checked: 1 ok, 2 failed; 2 warnings (--offline: read and parsed, nothing sent to KMS)\n",
			stderr: "kmsgen: 2 of 3 KMSSecretGenerators failed the check\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			real, dry := 0, 0
			fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
				mu.Lock()
				defer mu.Unlock()
				if c.DryRun {
					dry++
				} else {
					real++
				}
				return nil
			})
			defer fake.SetFault(nil)
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if diff := cmp.Diff(tc.stdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.stderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if real != tc.real || dry != tc.dry {
				t.Errorf("Decrypt calls: %d real, %d dry run; want %d and %d", real, dry, tc.real, tc.dry)
			}
			for _, out := range []string{stdout.String(), stderr.String()} {
				if strings.Contains(out, checkCanary) || strings.Contains(out, "tok-") || strings.Contains(out, "DB_PASSWORD") {
					t.Errorf("the output holds plaintext:\n%s", out)
				}
			}
		})
	}
}

func TestCheckHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"check", "--help"}, strings.NewReader(""), &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"kmsgen check PATH... [flags]", "--dry-run", "Exit codes: 0 every generator is fine, 1 a generator failed or none was found, 2 wrong",
		"kmsgen check .", "--enable-alpha-plugins --enable-exec"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stdout.String())
		}
	}
}
