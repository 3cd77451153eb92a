// Package scratch holds plaintext for an editor, the one place kmsgen
// writes plaintext to a file (kmsgen edit): a 0600 file in a 0700
// directory of its own, on a memory-backed filesystem where one exists
// ($XDG_RUNTIME_DIR, /dev/shm, /run/user/UID), so that nothing reaches a
// disk; every file left in that directory (the editor's swap and backup
// files too) is overwritten and removed by Remove, which callers run on
// every way out.
package scratch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a plaintext file in a directory of its own.
type File struct {
	// Dir is the directory, Path the file in it.
	Dir, Path string
	// Memory reports whether Dir is on a memory-backed filesystem.
	Memory bool
}

// New writes content to a new file named name in a new directory under the
// first memory-backed candidate (candidates, else os.TempDir()).
func New(name string, content []byte) (*File, error) {
	base, memory := pickBase()
	dir, err := os.MkdirTemp(base, "kmsgen-edit-") // 0700
	if err != nil {
		return nil, fmt.Errorf("making a private directory in %s: %w", base, err)
	}
	f := &File{Dir: dir, Path: filepath.Join(dir, filepath.Base(name)), Memory: memory}
	if err := os.WriteFile(f.Path, content, 0o600); err != nil {
		return nil, errors.Join(err, f.Remove())
	}
	return f, nil
}

// Read returns the file's content.
func (f *File) Read() ([]byte, error) { return os.ReadFile(f.Path) }

// Remove overwrites every regular file in Dir with zeros and removes Dir.
// It may be called more than once.
func (f *File) Remove() error {
	var errs []error
	filepath.WalkDir(f.Dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			errs = append(errs, overwrite(path))
		}
		return nil
	})
	errs = append(errs, os.RemoveAll(f.Dir))
	return errors.Join(errs...)
}

// overwrite writes zeros over a file's content, in place.
func overwrite(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = w.Write(make([]byte, info.Size()))
	return errors.Join(err, w.Sync(), w.Close())
}

// pickBase is the first candidate that is a writable directory on a
// memory-backed filesystem, else os.TempDir().
func pickBase() (string, bool) {
	for _, dir := range candidates() {
		if dir != "" && memoryBacked(dir) && writable(dir) {
			return dir, true
		}
	}
	return os.TempDir(), false
}

func candidates() []string {
	return []string{os.Getenv("XDG_RUNTIME_DIR"), "/dev/shm", fmt.Sprintf("/run/user/%d", os.Getuid())}
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".kmsgen-probe-")
	if err != nil {
		return false
	}
	f.Close()
	return os.Remove(f.Name()) == nil
}
