// Package atomicfile replaces files so that a reader sees either the old
// content or the new, never a part: each file is written to a temporary
// file in its own directory, synced to disk, and renamed over the old one.
// Apply does it for a set of files, all or none while the process lives;
// Journal does it so that a crash at any point (kill -9, power loss) leaves
// a state that Recover completes or undoes.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
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
// directory first, synced, and only when all are written are they renamed
// into place (each rename is atomic) and the directories synced. If a
// temporary file cannot be written, the others are removed and no file
// changes. A crash between two renames leaves some files changed: use
// Journal for sets that must not be split.
func Apply(changes []Change) error {
	id, err := newID()
	if err != nil {
		return err
	}
	temps := make([]string, len(changes))
	defer func() {
		for _, t := range temps {
			if t != "" {
				os.Remove(t) // no-op for those renamed
			}
		}
	}()
	for i, c := range changes {
		temps[i] = tempPath(c.Path, id)
		if err := writeTemp(temps[i], c); err != nil {
			return fmt.Errorf("writing %s: %w (no file was changed)", c.Path, err)
		}
	}
	for i, c := range changes {
		if err := os.Rename(temps[i], c.Path); err != nil {
			return fmt.Errorf("replacing %s: %w", c.Path, err)
		}
	}
	return syncDirs(changes)
}

// Write replaces one file: Apply of one Change.
func Write(path string, content []byte, mode fs.FileMode) error {
	return Apply([]Change{{Path: path, Content: content, Mode: mode}})
}

// tempPath is the temporary file of target for the write id: hidden, in
// target's directory, so that the rename stays within one file system.
func tempPath(target, id string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".kmsgen-"+id)
}

func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeTemp creates path (which must not exist), writes c's content with
// c's mode and syncs it.
func writeTemp(path string, c Change) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(c.Content)
	if err == nil {
		err = f.Chmod(c.Mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// syncDirs syncs the directories of changes, so that their renames last.
func syncDirs(changes []Change) error {
	seen := map[string]bool{}
	for _, c := range changes {
		dir := filepath.Dir(c.Path)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
