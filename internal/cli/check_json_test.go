package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

var update = flag.Bool("update", false, "rewrite the golden files of internal/cli/testdata from the actual output")

// TestCheckJSON: check -o json against golden files, for a repository
// with a generator that passes, one whose every source KMS refuses, one
// with a missing file (its other source unchecked), one that does not
// validate and one listed as a resource, in each mode; the exit code is
// text's.
func TestCheckJSON(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(checkKey, "alias/check"))
	t.Setenv("KMSGEN_CONCURRENCY", "")
	t.Setenv("KMSGEN_TIMEOUT", "")
	dir := t.TempDir()
	t.Chdir(dir)
	enc := func(plaintext string) string {
		return base64.StdEncoding.EncodeToString(fake.Encrypt(checkKey, map[string]string{"app": "a"}, []byte(plaintext)))
	}
	head := func(name string) string {
		return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name +
			"\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: kmsgen\n"
	}
	const kms = "kms: {keyId: alias/check, encryptionContext: {app: a}}\n"
	testfiles.Write(t, dir, map[string]string{
		"repo/kustomization.yaml": "generators: [ok.yaml, denied.yaml, missing.yaml, invalid.yaml]\nresources: [resource.yaml]\n",
		"repo/ok.yaml":            head("ok") + "envs: [app.env.encrypted]\nliterals: [TOKEN=" + enc("tok-"+checkCanary) + "]\n" + kms,
		"repo/app.env.encrypted":  enc("DB_PASSWORD=" + checkCanary + "\n"),
		"repo/denied.yaml": head("denied") + "files: [db.encrypted, {key: api, ciphertext: " + enc("api-"+checkCanary) + "}]\n" +
			"kms: {keyId: alias/check, encryptionContext: {app: other}}\n",
		"repo/db.encrypted":      enc("db-" + checkCanary),
		"repo/missing.yaml":      head("missing") + "files: [gone.encrypted]\nliterals: [TOKEN=" + enc("tok-"+checkCanary) + "]\n" + kms,
		"repo/invalid.yaml":      head("invalid") + "behavior: upsert\nliterals: [TOKEN=" + enc("tok-"+checkCanary) + "]\n" + kms,
		"repo/resource.yaml":     head("resource") + "literals: [TOKEN=" + enc("tok-"+checkCanary) + "]\n" + kms,
		"good/ok.yaml":           head("ok") + "envs: [app.env.encrypted]\n" + kms,
		"good/app.env.encrypted": enc("DB_PASSWORD=" + checkCanary + "\n"),
	})
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "failures", args: []string{"check", "-o", "json", "repo"}, code: ExitFailed, stderr: "kmsgen: 4 of 5 KMSSecretGenerators failed the check\n"},
		{name: "good", args: []string{"check", "--output=json", "good"}, code: ExitOK},
		{name: "dry-run", args: []string{"check", "-o", "json", "--dry-run", "repo"}, code: ExitFailed, stderr: "kmsgen: 4 of 5 KMSSecretGenerators failed the check\n"},
		{name: "offline", args: []string{"check", "-o", "json", "--offline", "repo"}, code: ExitFailed, stderr: "kmsgen: 3 of 5 KMSSecretGenerators failed the check\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code || stderr.String() != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr.String(), tc.code, tc.stderr)
			}
			var doc map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, stdout.String())
			}
			if strings.Contains(stdout.String(), checkCanary) || strings.Contains(stdout.String(), "DB_PASSWORD") {
				t.Errorf("the output holds plaintext:\n%s", stdout.String())
			}
			golden(t, filepath.Join("testdata", "check-json", tc.name+".json"), strings.ReplaceAll(stdout.String(), dir, "$DIR"))
		})
	}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"check", "-o", "yaml", "good"}, strings.NewReader(""), &stdout, &stderr); code != ExitUsage ||
		stderr.String() != "kmsgen: -o \"yaml\": want text or json\n" {
		t.Errorf("-o yaml: exit %d, stderr %q", code, stderr.String())
	}
}

// golden compares got with the file at path (relative to the package),
// or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	full := filepath.Join(pkgDir, path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(full)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// pkgDir is the package's directory, where go test starts (tests chdir
// elsewhere).
var pkgDir = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return wd
}()
