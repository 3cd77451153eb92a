package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderrRe string
	}{
		{name: "version", args: []string{"version"}, code: ExitOK, stdout: Version() + "\n"},
		{name: "unknown command", args: []string{"generator.yaml"}, code: ExitUsage,
			stderrRe: `kmsgen: unknown command "generator.yaml" (commands: build, check, diff, discover, edit, encrypt, `},
		{name: "unknown flag", args: []string{"--nope"}, code: ExitUsage, stderrRe: "kmsgen: unknown flag: --nope"},
		{name: "build without files", args: []string{"build"}, code: ExitUsage, stderrRe: "kmsgen: requires at least 1 arg"},
		{name: "build of a missing file", args: []string{"build", "/nonexistent/kmsgen.yaml"}, code: ExitFailed,
			stderrRe: "kmsgen: stat /nonexistent/kmsgen.yaml: no such file or directory"},
		{name: "function without a ResourceList", args: nil, code: ExitFailed,
			stderrRe: "kmsgen: no ResourceList with a KMSSecretGenerator on stdin: without arguments kmsgen is a KRM function"},
		{name: "control characters in a path are escaped", args: []string{"build", "/nonexistent/\x1b[2J\x00\u0085.yaml"}, code: ExitFailed,
			stderrRe: `kmsgen: stat /nonexistent/\x1b[2J\x00 .yaml: `}, // U+0085 is whitespace: one line, one space
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KMSGEN_CONCURRENCY", "")
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if tc.stdout != "" && stdout.String() != tc.stdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tc.stdout)
			}
			if !strings.HasPrefix(stderr.String(), tc.stderrRe) {
				t.Errorf("stderr = %q, want it to start with %q", stderr.String(), tc.stderrRe)
			}
			if n := strings.Count(stderr.String(), "\n"); tc.code != ExitOK && n != 1 {
				t.Errorf("stderr has %d lines, want 1: %q", n, stderr.String())
			}
		})
	}
}

func TestInstall(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"install", dir}, strings.NewReader(""), &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	dst := filepath.Join(dir, "kmsgen")
	info, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v, want 0755", info.Mode().Perm())
	}
	self, _ := os.Executable()
	want, _ := os.ReadFile(self)
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(want, got) {
		t.Errorf("installed %d bytes, not a copy of the running binary (%d bytes)", len(got), len(want))
	}
	if stdout.String() != "installed "+dst+"\n" {
		t.Errorf("stdout = %q", stdout.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("install left %d files in %s, want only kmsgen", len(entries), dir)
	}
	if code := Main(context.Background(), []string{"install", filepath.Join(dir, "missing")}, strings.NewReader(""), &stdout, &stderr); code != ExitFailed {
		t.Errorf("install into a missing directory: exit %d, want %d", code, ExitFailed)
	}
	if code := Main(context.Background(), []string{"install"}, strings.NewReader(""), &stdout, &stderr); code != ExitUsage {
		t.Errorf("install without a directory: exit %d, want %d", code, ExitUsage)
	}
}

// TestWarningsOnStderr: kustomize prints no results of a function that
// succeeds, so warnings go to stderr too.
func TestWarningsOnStderr(t *testing.T) {
	t.Chdir(t.TempDir()) // no kustomization here
	gen := "apiVersion: kmsgen.dev/v1alpha1\n  kind: KMSSecretGenerator\n  metadata:\n    name: s\n" +
		"    annotations: {config.kubernetes.io/function: 'exec: {path: kmsgen}'}\n"
	input := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- " + gen + "functionConfig:\n  " + gen // as kustomize sends it
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), nil, strings.NewReader(input), &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "kmsgen: warning: the kustomization's generatorOptions were not applied") ||
		strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr = %q, want one warning line", stderr.String())
	}
	if !strings.Contains(stdout.String(), "kind: Secret") {
		t.Errorf("no Secret in the output:\n%s", stdout.String())
	}
}
