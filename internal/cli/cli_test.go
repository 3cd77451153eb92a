package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
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
		{name: "--version", args: []string{"--version"}, code: ExitOK, stdout: Version() + "\n"},
		{name: "unknown command", args: []string{"generator.yaml"}, code: ExitUsage,
			stderrRe: `kmsgen: unknown command "generator.yaml" (commands: build, check, completion, diff, discover, edit, encrypt, install, reencrypt, show, textconv, version; with no arguments kmsgen is the KRM function)`},
		{name: "mistyped command", args: []string{"chekc", "."}, code: ExitUsage,
			stderrRe: `kmsgen: unknown command "chekc": did you mean check? (commands: `},
		{name: "mistyped command, by prefix", args: []string{"reenc"}, code: ExitUsage,
			stderrRe: `kmsgen: unknown command "reenc": did you mean reencrypt? (commands: `},
		{name: "unknown flag", args: []string{"--nope"}, code: ExitUsage, stderrRe: "kmsgen: unknown flag: --nope\n"},
		{name: "mistyped flag", args: []string{"check", "--dryrun", "."}, code: ExitUsage, stderrRe: "kmsgen: unknown flag: --dryrun (did you mean --dry-run?)\n"},
		{name: "mistyped flag with a value", args: []string{"encrypt", "--key-ids=alias/x"}, code: ExitUsage, stderrRe: "kmsgen: unknown flag: --key-ids (did you mean --key-id?)\n"},
		{name: "mistyped alias", args: []string{"encrypt", "--encryption-contxt", "a=b"}, code: ExitUsage, stderrRe: "kmsgen: unknown flag: --encryption-contxt (did you mean --encryption-context?)\n"},
		{name: "flag far from any", args: []string{"show", "--zzzzzz", "."}, code: ExitUsage, stderrRe: "kmsgen: unknown flag: --zzzzzz\n"},
		{name: "completion for an unknown shell", args: []string{"completion", "tcsh"}, code: ExitUsage, stderrRe: `kmsgen: completion: want bash, zsh, fish or powershell, got "tcsh"`},
		{name: "completion without a shell", args: []string{"completion"}, code: ExitUsage, stderrRe: `kmsgen: completion: want bash, zsh, fish or powershell, got ""`},
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
	// Like install -D: the directory is made, with its parents.
	deep := filepath.Join(dir, "missing", "deeper")
	stdout.Reset()
	if code := Main(context.Background(), []string{"install", deep}, strings.NewReader(""), &stdout, &stderr); code != ExitOK {
		t.Errorf("install into a missing directory: exit %d (%s), want %d", code, stderr.String(), ExitOK)
	}
	if info, err := os.Stat(filepath.Join(deep, "kmsgen")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("install into a missing directory: %v, %v", info, err)
	}
	if info, err := os.Stat(deep); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("the directory made: %v, %v; want mode 0755", info, err)
	}
	// A file where the directory should be: the error names DIR.
	file := filepath.Join(dir, "kmsgen")
	stderr.Reset()
	if code := Main(context.Background(), []string{"install", file}, strings.NewReader(""), &stdout, &stderr); code != ExitFailed ||
		!strings.HasPrefix(stderr.String(), "kmsgen: installing into "+file+": ") || !strings.Contains(stderr.String(), "not a directory") {
		t.Errorf("install into a file: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	under := filepath.Join(file, "sub")
	if code := Main(context.Background(), []string{"install", under}, strings.NewReader(""), &stdout, &stderr); code != ExitFailed ||
		!strings.HasPrefix(stderr.String(), "kmsgen: installing into "+under+": ") {
		t.Errorf("install under a file: exit %d, stderr %q", code, stderr.String())
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

// TestCompletion: cobra's completion scripts, for each shell; bash's is
// valid bash.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(context.Background(), []string{"completion", shell}, strings.NewReader(""), &stdout, &stderr); code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if stdout.Len() < 1000 || !strings.Contains(stdout.String(), "kmsgen") || stderr.Len() != 0 {
				t.Fatalf("%d bytes of script, stderr %q", stdout.Len(), stderr.String())
			}
			if shell != "bash" {
				return
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Fatal(err)
			}
			check := exec.Command(bash, "-n")
			check.Stdin = &stdout
			if out, err := check.CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
		})
	}
	// And completing works: cobra's hidden __complete command.
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"__complete", "ree"}, strings.NewReader(""), &stdout, &stderr); code != ExitOK ||
		!strings.HasPrefix(stdout.String(), "reencrypt\t") {
		t.Errorf("__complete ree: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if code := Main(context.Background(), []string{"__complete", "encrypt", "--encr"}, strings.NewReader(""), &stdout, &stderr); code != ExitOK {
		t.Errorf("__complete encrypt --encr: exit %d", code)
	}
}

// TestBareOnTerminal: kmsgen without arguments on a terminal prints its
// help to stderr and exits 2 instead of waiting for a ResourceList; with
// stdin not a terminal it is the KRM function (TestExitCodes, the e2e tests).
func TestBareOnTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- Main(context.Background(), nil, tty, &stdout, &stderr) }()
	select {
	case code := <-done:
		if code != ExitUsage {
			t.Errorf("exit %d, want %d", code, ExitUsage)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kmsgen waited on the terminal")
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
	for _, want := range []string{"Usage:\n  kmsgen [flags]\n  kmsgen [command]", "Available Commands:", "kmsgen: stdin is a terminal"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
