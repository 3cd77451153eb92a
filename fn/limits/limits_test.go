package limits

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadAll(t *testing.T) {
	for _, tc := range []struct {
		size int
		ok   bool
	}{{0, true}, {10, true}, {11, false}, {1000, false}} {
		data, err := ReadAll(strings.NewReader(strings.Repeat("x", tc.size)), 10, "stdin")
		if tc.ok != (err == nil) || (err == nil && len(data) != tc.size) || (err != nil && !errors.Is(err, ErrTooLarge)) {
			t.Errorf("%d bytes: %d, %v", tc.size, len(data), err)
		}
	}
}

func TestReader(t *testing.T) {
	_, err := io.ReadAll(&Reader{R: strings.NewReader(strings.Repeat("x", 100)), Limit: 10, What: "stdin"})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "stdin: too large") {
		t.Errorf("reading past the limit: %v", err)
	}
	data, err := io.ReadAll(&Reader{R: strings.NewReader("0123456789"), Limit: 10, What: "stdin"})
	if err != nil || string(data) != "0123456789" {
		t.Errorf("reading up to the limit: %q, %v", data, err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small"), filepath.Join(dir, "big")
	os.WriteFile(small, []byte("ok"), 0o644)
	os.WriteFile(big, make([]byte, 100), 0o644)
	if data, err := ReadFile(small, 10); err != nil || string(data) != "ok" {
		t.Errorf("small: %q, %v", data, err)
	}
	if _, err := ReadFile(big, 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v", err)
	}
	if _, err := ReadFile(dir, 10); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}
