package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestPreCommitHook runs the repository's pre-commit hooks under the real
// pre-commit, from a user's repository (pre-commit try-repo): the hook that
// uses the kmsgen on PATH (this run's build) passes a good repository and
// refuses a plaintext beside its ciphertext, a plaintext literal and an
// invalid generator, printing no plaintext and calling no KMS API. The
// golang hook, which builds kmsgen from the pinned rev through the module
// proxy, is validated as a manifest only (tests reach only loopback).
func TestPreCommitHook(t *testing.T) {
	fake, env := repoFake(t)
	root := repoRoot(t)
	env = append(env, "PRE_COMMIT_HOME="+t.TempDir(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid")
	if res := run(t, root, env, nil, "pre-commit", "validate-manifest", ".pre-commit-hooks.yaml"); res.code != 0 {
		t.Fatalf("pre-commit validate-manifest: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// The hooks' repository as pre-commit clones it: this work tree's
	// manifest, committed (try-repo would leave an uncommitted one out).
	manifest, err := os.ReadFile(filepath.Join(root, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	hooks := t.TempDir()
	testfiles.Write(t, hooks, map[string]string{".pre-commit-hooks.yaml": string(manifest)})
	git(t, hooks, env, "init", "-q")
	git(t, hooks, env, "add", "-A")
	git(t, hooks, env, "commit", "-q", "-m", "hooks")

	good := map[string]string{
		"app/kustomization.yaml": "resources: [deployment.yaml]\ngenerators: [secrets.yaml]\n",
		"app/deployment.yaml":    deploymentReferring("app", "app-secrets"),
		"app/secrets.yaml":       execGenerator("app-secrets") + "envs: [app.env.encrypted]\nliterals: [TOKEN=" + sealed(fake, canary+"-token") + "]\n",
		"app/app.env.encrypted":  sealed(fake, "DB_PASSWORD="+canary+"\n"),
	}
	tests := []struct {
		name    string
		files   map[string]string // added to good
		code    int
		mention []string
	}{
		{name: "good", code: 0, mention: []string{"Passed"}},
		{name: "a plaintext beside its ciphertext", files: map[string]string{"app/app.env": "DB_PASSWORD=" + canary + "\n"}, code: 1,
			mention: []string{"Failed", `envs[0] "app.env.encrypted": app.env beside it is not a ciphertext`}},
		{name: "the same plaintext, ignored by git", code: 0,
			files:   map[string]string{"app/app.env": "DB_PASSWORD=" + canary + "\n", ".gitignore": "app.env\n"},
			mention: []string{"Passed", "app/app.env: beside app.env.encrypted and not a ciphertext"}},
		{name: "a plaintext literal", code: 1,
			files:   map[string]string{"app/secrets.yaml": execGenerator("app-secrets") + "envs: [app.env.encrypted]\nliterals: [TOKEN=" + canary + "-token]\n"},
			mention: []string{"Failed", `literals[0] (inline) (key "TOKEN"): `, "likely a plaintext pasted by mistake"}},
		{name: "a plaintext env file", code: 1,
			files:   map[string]string{"app/app.env.encrypted": "DB_PASSWORD=" + canary + "\n"},
			mention: []string{"Failed", "was the plaintext committed instead of its ciphertext?"}},
		{name: "an invalid generator", code: 1,
			files:   map[string]string{"app/secrets.yaml": execGenerator("app-secrets") + "envs: [app.env.encrypted]\nenvfiles: [x]\n"},
			mention: []string{"Failed", "envfiles"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testfiles.Write(t, dir, good)
			testfiles.Write(t, dir, tc.files)
			git(t, dir, env, "init", "-q")
			git(t, dir, env, "add", "-A")
			calls, before := fake.Calls("Decrypt"), workTree(t, dir)
			res := run(t, dir, env, nil, "pre-commit", "try-repo", hooks, "kmsgen-check-system", "--all-files", "--verbose", "--color", "never")
			out := res.stdout + res.stderr
			if res.code != tc.code {
				t.Errorf("pre-commit try-repo: exit %d, want %d\n%s", res.code, tc.code, out)
			}
			for _, m := range tc.mention {
				if !strings.Contains(out, m) {
					t.Errorf("the hook's output does not say %q:\n%s", m, out)
				}
			}
			assertNoCanary(t, out)
			if n := fake.Calls("Decrypt") - calls; n != 0 {
				t.Errorf("%d Decrypt calls: the hook must not call KMS", n)
			}
			if diff := cmp.Diff(before, workTree(t, dir)); diff != "" {
				t.Errorf("the hook changed the repository (-before +after):\n%s", diff)
			}
		})
	}
}

// git runs git in dir and fails the test if it fails.
func git(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	if res := run(t, dir, env, nil, "git", args...); res.code != 0 {
		t.Fatalf("git %s: exit %d\n%s", strings.Join(args, " "), res.code, res.stderr)
	}
}

// workTree is snapshot of dir without .git, which git may rewrite (its
// index) on any command.
func workTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := snapshot(t, dir)
	for name := range files {
		if strings.HasPrefix(name, ".git"+string(filepath.Separator)) {
			delete(files, name)
		}
	}
	return files
}
