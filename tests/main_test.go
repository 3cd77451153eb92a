// Package tests drives the real binaries end to end: kmsgen as built from
// this module, under the real kustomize, with the aws CLI and kubectl,
// against both KMS emulators (local-kms and moto_server) and the fake KMS.
// Every tool must be on PATH (`make test` installs the pinned ones); a
// missing tool fails the run rather than skipping tests.
package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"kmsgen.dev/kmsgen/internal/emulator"
)

// tools the tests run, and how to get each; TestMain refuses to start
// without them. make test installs the first two (make tools); the README's
// Prerequisites say the same for the others.
var tools = []struct{ name, howTo string }{
	{"kustomize", "make test installs the pinned one into .tools/bin (make tools); run the tests with make test"},
	{"local-kms", "make test installs the pinned one into .tools/bin (make tools); run the tests with make test"},
	{"kpt", "install a kpt 1.0 release binary (kpt.dev, Installation); macOS: brew install kpt"},
	{"kubectl", "Debian/Ubuntu: Kubernetes' apt repository (Install kubectl on Linux); macOS: brew install kubectl"},
	{"aws", "Debian/Ubuntu: apt-get install awscli; macOS: brew install awscli"},
	{"jq", "Debian/Ubuntu: apt-get install jq; macOS: brew install jq"},
	{"moto_server", "Debian/Ubuntu: apt-get install python3-moto python3-flask python3-flask-cors; macOS: pipx install 'moto[server]'"},
	{"pre-commit", "Debian/Ubuntu: apt-get install pre-commit; macOS: brew install pre-commit"},
	{"git", "Debian/Ubuntu: apt-get install git; macOS: xcode-select --install"},
}

// kmsgenBin is the kmsgen binary built for this run.
var kmsgenBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kmsgen-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	kmsgenBin = filepath.Join(dir, "kmsgen")
	build := exec.Command("go", "build", "-o", kmsgenBin, "kmsgen.dev/kmsgen")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building kmsgen: %v\n%s", err, out)
		return 1
	}
	os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	missing := false
	for _, tool := range tools {
		if _, err := exec.LookPath(tool.name); err != nil {
			fmt.Fprintf(os.Stderr, "%s is not on PATH: %s\n", tool.name, tool.howTo)
			missing = true
		}
	}
	if missing {
		fmt.Fprintln(os.Stderr, "the end-to-end tests need every tool above (README, Prerequisites); none is skipped")
		return 1
	}
	defer stopEmulators()
	return m.Run()
}

var (
	emulatorsMu sync.Mutex
	running     = map[string]*emulator.KMS{}
)

// kmsEmulator returns the named emulator, started on first use and shared
// by the tests of this run.
func kmsEmulator(t *testing.T, name string) *emulator.KMS {
	t.Helper()
	emulatorsMu.Lock()
	defer emulatorsMu.Unlock()
	if k, ok := running[name]; ok {
		return k
	}
	k, err := emulator.Start(name, emulator.Options{})
	if err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	running[name] = k
	return k
}

func stopEmulators() {
	emulatorsMu.Lock()
	defer emulatorsMu.Unlock()
	for _, k := range running {
		k.Stop()
	}
}

// emulators are the names of both emulators, for tests run on each.
var emulators = []string{emulator.LocalKMS, emulator.Moto}

// baseEnv is the test process's environment without any AWS or kmsgen
// setting, so nothing from the machine leaks into a test.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "KMSGEN_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// without returns env without the variables names.
func without(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}

// result is what a command did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs a command in dir with env and returns its output and exit code.
func run(t *testing.T, dir string, env []string, stdin []byte, name string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), name, args...)
	cmd.Dir = dir
	cmd.Env = env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %s %v: %v", name, args, err)
		}
		code = exitErr.ExitCode()
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// execGenerator is the head of a KMSSecretGenerator named name that
// kustomize runs as an exec function; callers append its fields.
func execGenerator(name string) string {
	return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name +
		"\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: kmsgen\n"
}

// kustomizeBuild runs `kustomize build --enable-alpha-plugins --enable-exec`.
func kustomizeBuild(t *testing.T, dir string, env []string) result {
	t.Helper()
	return run(t, dir, env, nil, "kustomize", "build", "--enable-alpha-plugins", "--enable-exec", ".")
}
