package fn_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestFileSourcesMustBeRegular: a file source naming a FIFO, a device or
// a directory is refused before it is opened for reading, so the run
// neither blocks on a FIFO nor reads a device forever.
func TestFileSourcesMustBeRegular(t *testing.T) {
	newFake(t)
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"sub/x": ""})
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.encrypted"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ source, want string }{
		{"files: [fifo.encrypted]", "not a regular file (a FIFO)"},
		{"envs: [sub]", "not a regular file (a directory)"},
		{"files: [zero=/dev/zero]", "must be relative"},
	} {
		gen := "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\n" + tc.source + "\n"
		_, err := newGenerator(awskms.Options{}).Standalone(t.Context(), []fn.GeneratorFile{{Name: "gen.yaml", Content: []byte(gen), Root: dir}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.source, err, tc.want)
		}
	}
}

// TestAliasBombRefused: a generator whose YAML aliases expand past the
// limit is refused by the function before it is decoded.
func TestAliasBombRefused(t *testing.T) {
	gen := "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\n" +
		"kms: {encryptionContext: {a: &big " + strings.Repeat("x", 1<<20) + "}}\nliterals:\n" + strings.Repeat("- *big\n", 5000)
	out, err := execute(t, &fn.Processor{Context: t.Context(), Generator: newGenerator(awskms.Options{}), WorkDir: t.TempDir()}, gen)
	if err == nil || !strings.Contains(err.Error(), "larger than 16 MiB once its YAML aliases are expanded") || strings.Contains(out, "kind: Secret") {
		t.Errorf("error %v", err)
	}
}
