package tests

// show, diff and textconv, the read side of the day-two loop, on a git
// repository with a kustomization, against each emulator: show names the
// Secret as kustomize build does and lists keys, values only with
// --reveal; diff names the keys added, removed and changed since a
// revision; git diff shows keys through textconv. None of them may print a
// value it was not asked for.

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

func TestShowDiffTextconv(t *testing.T) {
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			alias := "alias/" + uniqueName("inspect")
			if _, err := k.CreateKey(t.Context(), alias); err != nil {
				t.Fatal(err)
			}
			context := map[string]string{"app": "inspect"}
			seal := func(plaintext string) string {
				t.Helper()
				blob, err := k.Encrypt(t.Context(), alias, context, []byte(plaintext))
				check(t, err)
				return base64.StdEncoding.EncodeToString(blob)
			}
			env := append(baseEnv(), k.Env()...)
			repo := t.TempDir()
			testfiles.Write(t, repo, map[string]string{
				".gitattributes":         "*.encrypted diff=kmsgen\n",
				"app/kustomization.yaml": "generators: [secrets.yaml]\n",
				"app/app.env.encrypted":  seal("DB_USER=app\nDB_PASSWORD=" + canary + "-1\nOLD=" + canary + "-old\n"),
				"app/secrets.yaml": execGenerator("app-secrets") + "envs: [app.env.encrypted]\nliterals: [API_TOKEN=" + seal(canary+"-token") + "]\n" +
					"kms: {keyId: " + alias + ", encryptionContext: {app: inspect}}\n",
			})
			git := func(args ...string) {
				t.Helper()
				if r := run(t, repo, env, nil, "git", append([]string{"-c", "user.name=kmsgen", "-c", "user.email=kmsgen@example.test"}, args...)...); r.code != 0 {
					t.Fatalf("git %v: %s", args, r.stderr)
				}
			}
			git("init", "-q", ".")
			git("config", "diff.kmsgen.textconv", "kmsgen textconv --context app=inspect --key-id "+alias)
			git("add", "-A")
			git("commit", "-q", "-m", "secrets")

			// show: the Secret's name as kustomize names it, and its keys
			built := kustomizeBuild(t, repo+"/app", env)
			if built.code != 0 {
				t.Fatal(built.stderr)
			}
			secretName := ""
			for name := range secretData(t, built.stdout) {
				secretName = name
			}
			shown := run(t, repo, env, nil, "kmsgen", "show", "app")
			if shown.code != 0 {
				t.Fatal(shown.stderr)
			}
			assertNoCanary(t, shown.stdout, shown.stderr)
			want := "app/secrets.yaml: KMSSecretGenerator \"app-secrets\" → Secret " + secretName + "\n  API_TOKEN\n  DB_PASSWORD\n  DB_USER\n  OLD\n"
			if diff := cmp.Diff(want, shown.stdout); diff != "" {
				t.Errorf("kmsgen show (-want +got):\n%s", diff)
			}
			revealed := run(t, repo, env, nil, "kmsgen", "show", "--reveal", "app/secrets.yaml")
			if !strings.Contains(revealed.stdout, `  DB_PASSWORD: "`+canary+`-1"`) || strings.Contains(revealed.stderr, canary) {
				t.Errorf("kmsgen show --reveal: stdout %q, stderr %q", revealed.stdout, revealed.stderr)
			}

			// a value changed, a key added, one removed
			testfiles.Write(t, repo, map[string]string{
				"app/app.env.encrypted": seal("DB_USER=app\nDB_PASSWORD=" + canary + "-2\nNEW=" + canary + "-new\n"),
			})
			diffed := run(t, repo, env, nil, "kmsgen", "diff", "--exit-code")
			assertNoCanary(t, diffed.stdout, diffed.stderr)
			if diffed.code != 1 {
				t.Fatalf("kmsgen diff --exit-code: exit %d, want 1\n%s", diffed.code, diffed.stderr)
			}
			for _, line := range []string{"  ~ DB_PASSWORD\n", "  + NEW\n", "  - OLD\n", "1 of 1 generators differ from HEAD\n"} {
				if !strings.Contains(diffed.stdout, line) {
					t.Errorf("kmsgen diff lacks %q:\n%s", line, diffed.stdout)
				}
			}
			if strings.Contains(diffed.stdout, "DB_USER") || strings.Contains(diffed.stdout, "API_TOKEN") {
				t.Errorf("kmsgen diff lists unchanged keys:\n%s", diffed.stdout)
			}

			// git diff through textconv: keys, no value
			gd := run(t, repo, env, nil, "git", "diff")
			assertNoCanary(t, gd.stdout, gd.stderr)
			for _, line := range []string{"\n-OLD\n", "\n+NEW\n", "\n DB_PASSWORD\n", "-# kmsgen: ciphertext sha256:", "+# kmsgen: ciphertext sha256:"} {
				if !strings.Contains(gd.stdout, line) {
					t.Errorf("git diff lacks %q:\n%s", line, gd.stdout)
				}
			}
		})
	}
}
