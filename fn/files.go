package fn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"kmsgen.dev/kmsgen/fn/limits"
)

// LoadRestrictor says which files a generator may read, with the values of
// kustomize's --load-restrictor.
type LoadRestrictor string

const (
	// LoadRestrictionsRootOnly, the default, confines file sources to the
	// kustomization root (kpt, kmsgen build: the generator's directory).
	LoadRestrictionsRootOnly LoadRestrictor = "LoadRestrictionsRootOnly"
	// LoadRestrictionsNone lets file sources leave the root, but never the
	// git repository that holds it: the nearest directory at or above the
	// root that holds .git.
	LoadRestrictionsNone LoadRestrictor = "LoadRestrictionsNone"
	// EnvLoadRestrictor sets the LoadRestrictor. Exec functions inherit
	// kustomize's environment, not its flags: set it next to kustomize's
	// --load-restrictor LoadRestrictionsNone.
	EnvLoadRestrictor = "KMSGEN_LOAD_RESTRICTOR"
)

// LoadRestrictorFromEnv reads EnvLoadRestrictor through getenv: unset or
// empty is LoadRestrictionsRootOnly; another value than the two is an
// error.
func LoadRestrictorFromEnv(getenv func(string) string) (LoadRestrictor, error) {
	switch v := LoadRestrictor(getenv(EnvLoadRestrictor)); v {
	case "", LoadRestrictionsRootOnly:
		return LoadRestrictionsRootOnly, nil
	case LoadRestrictionsNone:
		return v, nil
	default:
		return LoadRestrictionsRootOnly, fmt.Errorf("%s=%q: want %s or %s (kustomize's --load-restrictor values)",
			EnvLoadRestrictor, string(v), LoadRestrictionsRootOnly, LoadRestrictionsNone)
	}
}

// Files reads the file sources of one Input, confined by a LoadRestrictor:
// through an os.Root, so that no path and no symbolic link leads outside
// the kustomization root (LoadRestrictionsRootOnly) or the git repository
// (LoadRestrictionsNone).
type Files struct {
	root       *os.Root
	base       string // the Input's Root, relative to root
	restrictor LoadRestrictor
	inputRoot  string
}

// OpenFiles opens the directory that confines in's file sources. With
// LoadRestrictionsNone and no git repository around in.Root, it fails:
// nothing would bound what the generator reads.
func OpenFiles(in Input, r LoadRestrictor) (*Files, error) {
	f := &Files{base: ".", restrictor: r, inputRoot: in.Root}
	dir := in.Root
	if r == LoadRestrictionsNone {
		real, err := filepath.EvalSymlinks(in.Root)
		if err != nil {
			return nil, fmt.Errorf("opening the kustomization root: %w", err)
		}
		repo, ok := gitRepository(real)
		if !ok {
			return nil, fmt.Errorf("%s=%s lets paths leave the kustomization root but not the git repository around it, and %s is in none (no .git at or above it): run kmsgen in a git checkout, or keep the files under the kustomization root",
				EnvLoadRestrictor, LoadRestrictionsNone, in.Root)
		}
		if f.base, err = filepath.Rel(repo, real); err != nil {
			return nil, err
		}
		dir = repo
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the kustomization root: %w", err)
	}
	f.root = root
	return f, nil
}

// Close releases the directory.
func (f *Files) Close() error { return f.root.Close() }

// Read returns the content of the file at path p, relative to the Input's
// Root.
func (f *Files) Read(p string) ([]byte, error) {
	rel, err := f.rel(p)
	if err != nil {
		return nil, err
	}
	// regular files only (a FIFO would block, a device never end), of
	// at most limits.Ciphertext, checked before and after opening
	info, err := f.root.Stat(rel)
	if err != nil {
		return nil, fmt.Errorf("reading the ciphertext: %w (%s)", err, f.rule())
	}
	if err := limits.Check(info, "the ciphertext file", limits.Ciphertext); err != nil {
		return nil, err
	}
	file, err := f.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the ciphertext: %w (%s)", err, f.rule())
	}
	defer file.Close()
	return limits.ReadOpen(file, "the ciphertext file", limits.Ciphertext)
}

// Resolve returns the real path of the file at p (symbolic links
// resolved), which is inside the confining directory, and its mode.
func (f *Files) Resolve(p string) (string, fs.FileMode, error) {
	rel, err := f.rel(p)
	if err != nil {
		return "", 0, err
	}
	realRoot, err := filepath.EvalSymlinks(f.root.Name())
	if err != nil {
		return "", 0, err
	}
	real, err := filepath.EvalSymlinks(filepath.Join(f.root.Name(), rel))
	if err != nil {
		return "", 0, err
	}
	if r, err := filepath.Rel(realRoot, real); err != nil || !filepath.IsLocal(r) {
		return "", 0, fmt.Errorf("the file leads outside %s (%s)", f.root.Name(), f.rule())
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", 0, err
	}
	return real, info.Mode().Perm(), nil
}

// rel is p relative to the confining directory, or an error when p leaves
// it.
func (f *Files) rel(p string) (string, error) {
	if filepath.IsAbs(p) {
		return "", errors.New("an absolute path: paths are relative to the kustomization root")
	}
	if f.restrictor != LoadRestrictionsNone && !filepath.IsLocal(p) {
		return "", fmt.Errorf("the path leaves the kustomization root, which kustomize's default load restrictor forbids; "+
			"for files elsewhere in the repository, build with kustomize build --load-restrictor LoadRestrictionsNone and set %s=%s", EnvLoadRestrictor, LoadRestrictionsNone)
	}
	rel := filepath.Join(f.base, p)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("the path leaves the git repository %s, to which %s=%s still confines paths", f.root.Name(), EnvLoadRestrictor, LoadRestrictionsNone)
	}
	return rel, nil
}

// rule says where paths resolve and how far they may go, for messages.
func (f *Files) rule() string {
	if f.restrictor == LoadRestrictionsNone {
		return fmt.Sprintf("paths are relative to %s and may not lead outside the git repository %s, symlinks included", f.inputRoot, f.root.Name())
	}
	return fmt.Sprintf("paths are relative to %s and may not lead outside it, symlinks included", f.root.Name())
}

// gitRepository returns the nearest directory at or above dir holding .git
// (a directory, or a file for worktrees and submodules).
func gitRepository(dir string) (string, bool) {
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
