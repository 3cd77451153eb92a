// Package testfiles writes trees of files for tests.
package testfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes files (path → content, slash-separated and relative) under
// dir, making directories as needed.
func Write(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
