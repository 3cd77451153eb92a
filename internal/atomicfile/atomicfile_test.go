package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

func TestApply(t *testing.T) {
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"a": "old a", "b": "old b"})
	if err := os.Chmod(filepath.Join(dir, "b"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Apply([]Change{
		{Path: filepath.Join(dir, "a"), Content: []byte("new a"), Mode: 0o644},
		{Path: filepath.Join(dir, "missing-dir", "c"), Content: []byte("c"), Mode: 0o644},
	})
	if err == nil || !strings.Contains(err.Error(), "no file was changed") {
		t.Fatalf("Apply with an unwritable change: %v", err)
	}
	if got := read(t, dir, "a"); got != "old a" {
		t.Errorf("a = %q after a failed Apply, want it unchanged", got)
	}
	if err := Apply([]Change{
		{Path: filepath.Join(dir, "a"), Content: []byte("new a"), Mode: 0o644},
		{Path: filepath.Join(dir, "b"), Content: []byte("new b"), Mode: 0o600},
	}); err != nil {
		t.Fatal(err)
	}
	if a, b := read(t, dir, "a"), read(t, dir, "b"); a != "new a" || b != "new b" {
		t.Errorf("a, b = %q, %q", a, b)
	}
	if info, _ := os.Stat(filepath.Join(dir, "b")); info.Mode().Perm() != 0o600 {
		t.Errorf("b's mode = %v, want 0600", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files left in the directory, want 2 (no temporary files)", len(entries))
	}
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
