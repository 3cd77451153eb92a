package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/emulator"
)

// repoRoot is the repository root, the parent of this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestMakeDemo runs the README's quickstart command and checks its output.
func TestMakeDemo(t *testing.T) {
	root := repoRoot(t)
	res := run(t, root, baseEnv(), nil, "make", "-s", "demo")
	if res.code != 0 {
		t.Fatalf("make demo: exit %d\n%s", res.code, res.stderr)
	}
	want, err := os.ReadFile(filepath.Join(root, "examples/kustomize/expected-output.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), res.stdout); diff != "" {
		t.Errorf("make demo output differs from examples/kustomize/expected-output.yaml (-want +got):\n%s", diff)
	}
}

// shellBlocks returns the ```sh blocks of a Markdown file, in order; a
// block indented in a list loses its indentation.
func shellBlocks(t *testing.T, path string) string {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	for _, m := range regexp.MustCompile("(?ms)^( *)```sh\n(.*?)^ *```").FindAllStringSubmatch(string(text), -1) {
		for _, line := range strings.SplitAfter(m[2], "\n") {
			script.WriteString(strings.TrimPrefix(line, m[1]))
		}
	}
	if script.Len() == 0 {
		t.Fatalf("%s has no sh blocks", path)
	}
	return script.String()
}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	out, err := exec.Command("cp", "-R", src+"/.", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("copying %s: %v\n%s", src, err, out)
	}
	return dst
}

var (
	demoOnce sync.Once
	demo     *emulator.KMS
	demoErr  error
)

// demoKMS returns local-kms loaded with the public demo key of
// examples/demo-key, started once for the run.
func demoKMS(t *testing.T) *emulator.KMS {
	t.Helper()
	demoOnce.Do(func() {
		demo, demoErr = emulator.Start(emulator.LocalKMS, emulator.Options{
			Seed: filepath.Join(repoRoot(t), "examples/demo-key/local-kms-seed.yaml")})
		if demoErr == nil {
			emulatorsMu.Lock()
			running["demo"] = demo // stopped with the others
			emulatorsMu.Unlock()
		}
	})
	if demoErr != nil {
		t.Fatalf("starting local-kms with the demo key: %v", demoErr)
	}
	return demo
}

// runExample runs every sh block of examples/NAME/README.md, in order, in
// a copy of examples/NAME inside a copy of the whole examples tree (so
// ../demo-key and the like resolve), against local-kms with the demo key,
// and returns the output. env is added to the environment. The blocks must
// leave the tree as they found it (git status clean after a reader runs
// them): output goes to temporary directories, never into a package.
func runExample(t *testing.T, name string, env ...string) string {
	t.Helper()
	examples := copyDir(t, filepath.Join(repoRoot(t), "examples"))
	script := shellBlocks(t, filepath.Join(examples, name, "README.md"))
	full := append(baseEnv(), demoKMS(t).Env()...)
	before := snapshot(t, examples)
	out := sh(t, filepath.Join(examples, name), append(full, env...), script)
	assertUnchanged(t, "examples/"+name+"/README.md", before, snapshot(t, examples))
	return out
}

// assertUnchanged fails when running a README's blocks added, removed or
// changed a file of the repository's copy.
func assertUnchanged(t *testing.T, readme string, before, after map[string]string) {
	t.Helper()
	var changed []string
	for name, content := range after {
		if old, ok := before[name]; !ok || old != content {
			changed = append(changed, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			changed = append(changed, name)
		}
	}
	if len(changed) > 0 {
		slices.Sort(changed)
		t.Errorf("running %s wrote into the repository (git status would not be clean): %s", readme, strings.Join(changed, ", "))
	}
}

// TestSeedWorkflowExample runs every sh block of
// examples/seed-workflow/README.md, in order, against a fresh moto_server
// (KMS, STS and IAM on one endpoint).
func TestSeedWorkflowExample(t *testing.T) {
	k, err := emulator.Start(emulator.Moto, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Stop)
	example := filepath.Join(repoRoot(t), "examples/seed-workflow")
	script := shellBlocks(t, filepath.Join(example, "README.md"))
	dir := copyDir(t, example)
	before := snapshot(t, dir)
	out := sh(t, dir, append(baseEnv(), k.Env()...), script)
	assertUnchanged(t, "examples/seed-workflow/README.md", before, snapshot(t, dir))
	for _, want := range []string{"kind: Secret", "before:   name: myproject-secrets-", "after:    name: myproject-secrets-", "arn:aws:iam::"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestEnableExecTrap pins down the kustomize behaviour the README warns
// about: --enable-alpha-plugins without --enable-exec exits 0 and silently
// drops exec functions, and without either flag kustomize refuses.
func TestEnableExecTrap(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "examples/kustomize")
	alphaOnly := run(t, dir, baseEnv(), nil, "kustomize", "build", "--enable-alpha-plugins", ".")
	if alphaOnly.code != 0 || strings.Contains(alphaOnly.stdout, "kind: Secret") || !strings.Contains(alphaOnly.stdout, "kind: Deployment") {
		t.Errorf("--enable-alpha-plugins alone: exit %d, stdout:\n%s\nwant exit 0 and the Deployment without any Secret", alphaOnly.code, alphaOnly.stdout)
	}
	neither := run(t, dir, baseEnv(), nil, "kustomize", "build", ".")
	if neither.code == 0 || !strings.Contains(neither.stderr, "external plugins disabled") {
		t.Errorf("no flags: exit %d, stderr %q; want a failure about external plugins", neither.code, neither.stderr)
	}
}

// TestOverlaysExample: the prod overlay merges its keys into the base's
// Secret under a new hashed name.
func TestOverlaysExample(t *testing.T) {
	out := runExample(t, "overlays")
	for _, want := range []string{
		"name: " + demoSecretName(t), "name: prod-app-secrets-", "namespace: prod",
		"API_TOKEN: demo-token-123\nDB_PASSWORD: prod-only-password\nDB_USER: demo\nREPORTING_URL: https://reports.prod.example.test\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestReadmeLifecycle runs every sh block of the root README (the life
// cycle: key, encrypt, commit, build, show, rotate, edit, diff, check) in an
// empty directory against
// a fresh instance of each emulator.
func TestReadmeLifecycle(t *testing.T) {
	script := shellBlocks(t, filepath.Join(repoRoot(t), "README.md"))
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k, err := emulator.Start(name, emulator.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(k.Stop)
			env := append(baseEnv(), k.Env()...)
			env = append(env, "GIT_AUTHOR_NAME=kmsgen", "GIT_AUTHOR_EMAIL=kmsgen@example.test", "GIT_COMMITTER_NAME=kmsgen", "GIT_COMMITTER_EMAIL=kmsgen@example.test")
			out := sh(t, t.TempDir(), env, script)
			for _, want := range []string{"name: myapp-secrets-", "the same Secret, now under alias/myapp-2027",
				"secrets.yaml: KMSSecretGenerator \"myapp-secrets\" → Secret myapp-secrets-", "\n  API_KEY\n  API_TOKEN\n  DB_PASSWORD\n  ca-bundle.pem\n",
				"\n  ~ API_TOKEN\n1 of 1 generators differ from HEAD\n",
				"ok   secrets.yaml: KMSSecretGenerator \"myapp-secrets\" (4 sources)"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestReleaseVersionNamed: the release version the docs, the examples and
// the help name (image tags, artefact names, go install, pre-commit rev:,
// build arguments) is the top entry of CHANGELOG.md, the one make release
// is run for next, so that a newcomer's copy-paste names a version that
// exists.
func TestReleaseVersionNamed(t *testing.T) {
	root := repoRoot(t)
	changelog, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	check(t, err)
	top := regexp.MustCompile(`(?m)^## (v\d+\.\d+\.\d+)\b`).FindSubmatch(changelog)
	if top == nil {
		t.Fatal("CHANGELOG.md has no '## vX.Y.Z' entry")
	}
	want := string(top[1])
	ref := regexp.MustCompile(`(?:kmsgen[:_@]|rev: |VERSION=|version=)(v\d+\.\d+\.\d+)`)
	files := []string{"README.md", "Dockerfile", ".pre-commit-hooks.yaml"}
	for _, dir := range []string{"examples", "internal/cli"} {
		check(t, filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				files = append(files, rel)
			}
			return err
		}))
	}
	found := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		check(t, err)
		for _, m := range ref.FindAllSubmatch(data, -1) {
			found[f]++
			if got := string(m[1]); got != want {
				t.Errorf("%s names %s (%q); CHANGELOG.md's top entry is %s", f, got, m[0], want)
			}
		}
	}
	for _, f := range []string{"README.md", "Dockerfile", "internal/cli/version.go", "examples/argocd/repo-server-sidecar-patch.yaml"} {
		if found[f] == 0 {
			t.Errorf("%s names no release version (want %s)", f, want)
		}
	}
}
