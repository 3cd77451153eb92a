package tests

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

const checkWarnSuffix = "; kustomize build needs --enable-alpha-plugins --enable-exec, or silently leaves it out"

// checkWarnings are the warnings of a checkTree, whose paths start with root.
func checkWarnings(root string) string {
	return "warn " + root + "app/kustomization.yaml: lists the exec KMSSecretGenerator " + root + "app/generator.yaml" + checkWarnSuffix + "\n" +
		"warn " + root + "app/kustomization.yaml: lists the exec KMSSecretGenerator " + root + "app/secrets/gen.yaml" + checkWarnSuffix + "\n"
}

// checkTree is a kustomization (app) listing two exec generators, one in a
// subdirectory whose paths are relative to the kustomization, and a kpt
// package (pkg) whose generator's paths are relative to its own file, with
// an envelope among its sources. enc encrypts a plaintext into base64 text;
// big is an envelope.
func checkTree(enc func(string) string, big, kms string) map[string]string {
	return map[string]string{
		"app/kustomization.yaml":            "generators: [generator.yaml, secrets/gen.yaml]\n",
		"app/generator.yaml":                execGenerator("app-secrets") + "envs: [app.env.encrypted]\nliterals: [API_TOKEN=" + enc(canary+"-token") + "]\n" + kms,
		"app/app.env.encrypted":             enc("DB_USER=app\nDB_PASSWORD=" + canary + "-db\n"),
		"app/secrets/gen.yaml":              execGenerator("db") + "files: [secrets/db-password.encrypted]\n" + kms,
		"app/secrets/db-password.encrypted": enc(canary + "-password"),
		"pkg/Kptfile":                       "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n",
		"pkg/generator.yaml": execGenerator("tls") + "    config.kubernetes.io/local-config: \"true\"\n" +
			"files: [tls.key.encrypted, bundle.pem.encrypted]\n" + kms,
		"pkg/tls.key.encrypted":    enc("-----BEGIN KEY-----" + canary + "-----END KEY-----\n"),
		"pkg/bundle.pem.encrypted": big,
	}
}

// TestCheck runs kmsgen check on a tree against each emulator: all ok with
// the exec warnings, then one ciphertext under another encryption context.
func TestCheck(t *testing.T) {
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			ctx := context.Background()
			alias := "alias/" + uniqueName("check")
			if _, err := k.CreateKey(ctx, alias); err != nil {
				t.Fatal(err)
			}
			env := append(baseEnv(), k.Env()...)
			encWith := func(context map[string]string) func(string) string {
				return func(plaintext string) string {
					blob, err := k.Encrypt(ctx, alias, context, []byte(plaintext))
					if err != nil {
						t.Fatal(err)
					}
					return base64.StdEncoding.EncodeToString(blob) + "\n"
				}
			}
			dir := t.TempDir()
			big := run(t, dir, env, []byte(strings.Repeat("bundle ", 1000)+canary), "kmsgen", "encrypt", "--key-id", alias, "--context", "app=myproject")
			if big.code != 0 || !strings.HasPrefix(big.stdout, "-----BEGIN KMSGEN ENVELOPE-----") {
				t.Fatalf("kmsgen encrypt: exit %d, stderr %s, want an envelope", big.code, big.stderr)
			}
			kms := "kms:\n  keyId: " + alias + "\n  encryptionContext: {app: myproject}\n"
			testfiles.Write(t, dir, checkTree(encWith(map[string]string{"app": "myproject"}), big.stdout, kms))

			ok := `ok   app/generator.yaml: KMSSecretGenerator "app-secrets" (2 sources)
ok   app/secrets/gen.yaml: KMSSecretGenerator "db" (1 source)
ok   pkg/generator.yaml: KMSSecretGenerator "tls" (2 sources)
` + checkWarnings("")
			for _, args := range [][]string{{"check", "."}, {"check", "--dry-run", "."}} {
				res := run(t, dir, env, nil, "kmsgen", args...)
				want := ok + "3 KMSSecretGenerators checked: 3 ok, 0 failed; 2 warnings\n"
				if len(args) == 3 { // the emulators ignore DryRun and decrypt, which proves as much
					want = strings.TrimSuffix(want, "\n") + " (--dry-run: Decrypt permission only, nothing decrypted)\n"
				}
				if res.code != 0 || res.stderr != "" {
					t.Errorf("%v: exit %d, stderr %q; want 0 and nothing", args, res.code, res.stderr)
				}
				if diff := cmp.Diff(want, res.stdout); diff != "" {
					t.Errorf("%v: stdout (-want +got):\n%s", args, diff)
				}
				assertNoCanary(t, res.stdout, res.stderr)
			}

			// kustomize resolves the paths of secrets/gen.yaml as check did:
			// against the kustomization, not the generator's directory.
			build := kustomizeBuild(t, dir+"/app", env)
			if build.code != 0 {
				t.Fatalf("kustomize build: exit %d\n%s", build.code, build.stderr)
			}
			if got := secretData(t, build.stdout); len(got) != 2 {
				t.Errorf("kustomize built %d Secrets, want 2 (app-secrets and db)", len(got))
			}

			testfiles.Write(t, dir, map[string]string{
				"app/secrets/db-password.encrypted": encWith(map[string]string{"app": "other"})(canary + "-password"),
			})
			for _, args := range [][]string{{"check", "."}, {"check", "--dry-run", "."}} {
				res := run(t, dir, env, nil, "kmsgen", args...)
				if res.code != 1 {
					t.Errorf("%v: exit %d, want 1", args, res.code)
				}
				if want := "kmsgen: 1 of 3 KMSSecretGenerators failed the check\n"; res.stderr != want {
					t.Errorf("%v: stderr %q, want %q", args, res.stderr, want)
				}
				lines := strings.Split(res.stdout, "\n")
				if len(lines) != 8 {
					t.Fatalf("%v: stdout has %d lines, want 8:\n%s", args, len(lines), res.stdout)
				}
				wantLines := strings.Split(ok, "\n")
				for i, want := range map[int]string{0: wantLines[0], 3: wantLines[2], 4: wantLines[3], 5: wantLines[4]} {
					if lines[i] != want {
						t.Errorf("%v: line %d = %q, want %q", args, i+1, lines[i], want)
					}
				}
				if want := `FAIL app/secrets/gen.yaml: KMSSecretGenerator "db" (1 source)`; lines[1] != want {
					t.Errorf("%v: line 2 = %q, want %q", args, lines[1], want)
				}
				for _, want := range []string{`     files[0] "secrets/db-password.encrypted" (key "db-password"): KMS could not decrypt it`,
					"InvalidCiphertextException", `kms.encryptionContext: {"app":"myproject"}`, "re-encrypt"} {
					if !strings.Contains(lines[2], want) {
						t.Errorf("%v: line 3 %q lacks %q", args, lines[2], want)
					}
				}
				if !strings.HasPrefix(lines[6], "3 KMSSecretGenerators checked: 2 ok, 1 failed; 2 warnings") {
					t.Errorf("%v: summary %q", args, lines[6])
				}
				assertNoCanary(t, res.stdout, res.stderr)
			}
		})
	}
}

// TestCheckNothingFound: no generator under PATH is a failure.
func TestCheckNothingFound(t *testing.T) {
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"kustomization.yaml": "resources: []\n"})
	res := run(t, dir, baseEnv(), nil, "kmsgen", "check", dir)
	if want := "kmsgen: no KMSSecretGenerator found under " + dir + "\n"; res.code != 1 || res.stdout != "" || res.stderr != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing and %q", res.code, res.stdout, res.stderr, want)
	}
}

// TestCheckDryRun runs kmsgen check --dry-run against the fake KMS, which
// answers DryRun as KMS does: only DryRun calls, and a refusal fails.
func TestCheckDryRun(t *testing.T) {
	const key = "66666666-6666-6666-6666-666666666666"
	fake := kmstest.Start(t, kmstest.NewKey(key, "alias/check"))
	appCtx := map[string]string{"app": "myproject"}
	enc := func(plaintext string) string {
		return base64.StdEncoding.EncodeToString(fake.Encrypt(key, appCtx, []byte(plaintext)))
	}
	dir := t.TempDir()
	env := append(baseEnv(), awstest.Env(fake.URL)...)
	big := run(t, dir, env, []byte(strings.Repeat("bundle ", 1000)+canary), "kmsgen", "encrypt", "--key-id", "alias/check", "--context", "app=myproject")
	if big.code != 0 {
		t.Fatalf("kmsgen encrypt: exit %d: %s", big.code, big.stderr)
	}
	testfiles.Write(t, dir, checkTree(enc, big.stdout, "kms:\n  keyId: alias/check\n  encryptionContext: {app: myproject}\n"))
	var mu sync.Mutex
	var real, dry int
	record := func(deny bool) fakekms.FaultFunc {
		return func(c fakekms.Call) *fakekms.Fault {
			mu.Lock()
			defer mu.Unlock()
			if c.Operation != "Decrypt" {
				return nil
			}
			if !c.DryRun {
				real++
				return &fakekms.Fault{Code: "AccessDeniedException", Message: "a real Decrypt during a dry run"}
			}
			dry++
			if deny {
				return &fakekms.Fault{Code: "AccessDeniedException", Message: "User is not authorized to perform: kms:Decrypt"}
			}
			return nil
		}
	}
	tests := []struct {
		name   string
		deny   bool
		code   int
		stdout string
		stderr string
		calls  int
	}{
		{name: "allowed", code: 0, calls: 5, stdout: `ok   app/generator.yaml: KMSSecretGenerator "app-secrets" (2 sources)
ok   app/secrets/gen.yaml: KMSSecretGenerator "db" (1 source)
ok   pkg/generator.yaml: KMSSecretGenerator "tls" (2 sources)
` + checkWarnings("") + "3 KMSSecretGenerators checked: 3 ok, 0 failed; 2 warnings (--dry-run: Decrypt permission only, nothing decrypted)\n"},
		{name: "denied", deny: true, code: 1, calls: 5, stderr: "kmsgen: 3 of 3 KMSSecretGenerators failed the check\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			real, dry = 0, 0
			fake.SetFault(record(tc.deny))
			defer fake.SetFault(nil)
			res := run(t, dir, env, nil, "kmsgen", "check", "--dry-run", ".")
			if res.code != tc.code || res.stderr != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d and %q", res.code, res.stderr, tc.code, tc.stderr)
			}
			if tc.stdout != "" {
				if diff := cmp.Diff(tc.stdout, res.stdout); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
			} else {
				// The denial is said once, for the first generator's two
				// sources; the others refer to it, naming their sources.
				var problems []string
				for _, line := range strings.Split(res.stdout, "\n") {
					if strings.HasPrefix(line, "     ") {
						problems = append(problems, line)
					}
				}
				want := []string{
					`     access denied: kms:Decrypt on key alias/check in region eu-west-1 `,
					`     files[0] "secrets/db-password.encrypted" (key "db-password"): the same error as for app/generator.yaml: KMSSecretGenerator "app-secrets" above`,
					`     the same error as for app/generator.yaml: KMSSecretGenerator "app-secrets" above (2 sources: files[0] "tls.key.encrypted" (key "tls.key") and files[1] "bundle.pem.encrypted" (key "bundle.pem"))`,
				}
				if len(problems) != len(want) {
					t.Fatalf("%d problem lines, want %d:\n%s", len(problems), len(want), res.stdout)
				}
				for i, w := range want {
					if !strings.HasPrefix(problems[i], w) {
						t.Errorf("problem %q, want it to start with %q", problems[i], w)
					}
				}
				if !strings.HasSuffix(problems[0], `(2 sources: envs[0] "app.env.encrypted" and literals[0] (inline) (key "API_TOKEN"))`) {
					t.Errorf("problem %q does not name its two sources", problems[0])
				}
			}
			if real != 0 || dry != tc.calls {
				t.Errorf("Decrypt calls: %d real, %d dry run; want 0 and %d", real, dry, tc.calls)
			}
			assertNoCanary(t, res.stdout, res.stderr)
		})
	}
}
