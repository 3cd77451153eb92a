// Package atomicfile replaces files so that a reader sees either the old
// content or the new, never a part: each file is written to a temporary
// file in its own directory and renamed over the old one. Apply does it for
// a set of files, all or none.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Change is new content for a file.
type Change struct {
	Path    string
	Content []byte
	Mode    fs.FileMode
}

// Apply writes every change or none: each goes to a temporary file in its
// directory first, and only when all are written are they renamed into
// place (each rename is atomic). If a temporary file cannot be written, the
// others are removed and no file changes.
func Apply(changes []Change) error {
	temps := make([]string, 0, len(changes))
	defer func() {
		for _, t := range temps {
			os.Remove(t) // no-op for those renamed
		}
	}()
	for _, c := range changes {
		tmp, err := writeTemp(c)
		if err != nil {
			return fmt.Errorf("writing %s: %w (no file was changed)", c.Path, err)
		}
		temps = append(temps, tmp)
	}
	for i, c := range changes {
		if err := os.Rename(temps[i], c.Path); err != nil {
			return fmt.Errorf("replacing %s: %w", c.Path, err)
		}
	}
	return nil
}

func writeTemp(c Change) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(c.Path), "."+filepath.Base(c.Path)+".kmsgen-*")
	if err != nil {
		return "", err
	}
	_, werr := tmp.Write(c.Content)
	if werr == nil {
		werr = tmp.Chmod(c.Mode)
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", werr
	}
	return tmp.Name(), nil
}

// Write replaces one file: Apply of one Change.
func Write(path string, content []byte, mode fs.FileMode) error {
	return Apply([]Change{{Path: path, Content: content, Mode: mode}})
}
