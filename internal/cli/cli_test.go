package cli

import (
	"bytes"
	"context"
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
			stderrRe: `kmsgen: unknown command "generator.yaml" (commands: build, version; with no arguments kmsgen is the KRM function)`},
		{name: "unknown flag", args: []string{"--nope"}, code: ExitUsage, stderrRe: "kmsgen: unknown flag: --nope"},
		{name: "build without files", args: []string{"build"}, code: ExitUsage, stderrRe: "kmsgen: requires at least 1 arg"},
		{name: "build of a missing file", args: []string{"build", "/nonexistent/kmsgen.yaml"}, code: ExitFailed,
			stderrRe: "kmsgen: open /nonexistent/kmsgen.yaml: no such file or directory"},
		{name: "function without a ResourceList", args: nil, code: ExitFailed, stderrRe: "kmsgen: no functionConfig"},
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
