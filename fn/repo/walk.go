package repo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/fn/kustomization"
)

// Scan finds the generators of paths: generator files, or directories.
//
// A directory is searched recursively (hidden directories skipped): every
// kustomization in it is followed, reachable from another one or not, so
// that nothing is missed, and so is every kustomization they lead to,
// wherever it is (a base in ../base); every YAML file holding a generator
// is read. The result holds the generators found in the directory and those
// its kustomizations reach.
//
// A file must hold a generator; the kustomizations in its directory and
// above are followed to find which one runs it, and the result holds the
// generators of that file only.
//
// A generator no kustomization runs has its own directory as Root: that is
// how kpt and kmsgen build resolve its paths.
func Scan(paths []string) (*Repository, error) {
	s := newScanner()
	var dirs, files []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, err
		}
		if info.IsDir() {
			dirs = append(dirs, abs)
			if err := s.walk(abs); err != nil {
				return nil, err
			}
			continue
		}
		files = append(files, abs)
		if err := s.file(abs, p); err != nil {
			return nil, err
		}
	}
	var starts []string
	for _, k := range s.kusts {
		if slices.ContainsFunc(dirs, func(d string) bool { return under(k, d) }) {
			starts = append(starts, k)
		}
	}
	reached := s.reachedFrom(starts)
	return s.repository(func(g *Generator) bool {
		switch {
		case slices.Contains(files, g.File.Path):
			return true
		case slices.ContainsFunc(dirs, func(d string) bool { return under(g.File.Path, d) }):
			return true
		}
		return reached[g.Kustomization] || slices.ContainsFunc(g.AsResource, func(u Use) bool { return reached[u.Kustomization] })
	}), nil
}

// Follow returns the generators the kustomization in dir reaches, following
// nothing else. It is what kustomize build dir would see.
func Follow(dir string) (*Repository, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := newScanner()
	if err := s.follow(abs, ""); err != nil {
		return nil, err
	}
	return s.repository(func(*Generator) bool { return true }), nil
}

// walk follows every kustomization under dir and reads every generator file.
func (s *scanner) walk(dir string) error {
	names := konfig.RecognizedKustomizationFileNames()
	var yamlFiles []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p != dir && strings.HasPrefix(d.Name(), "."):
			return filepath.SkipDir
		case d.IsDir():
			return nil
		case slices.Contains(names, d.Name()):
			if k, err := kustomization.Find(filepath.Dir(p)); err == nil && k == p {
				s.followNoting(filepath.Dir(p))
			}
		case strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml"):
			yamlFiles = append(yamlFiles, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range yamlFiles {
		if err := s.standalone(p); err != nil {
			return err
		}
	}
	return nil
}

// file reads a generator file given by the user (shown as name) and
// follows the kustomizations at and above its directory.
func (s *scanner) file(path, name string) error {
	f, err := s.loadIfGenerators(path)
	if err != nil {
		return err
	}
	if f == nil || !slices.ContainsFunc(f.Nodes, api.IsGenerator) {
		return fmt.Errorf("%s holds no %s", name, api.Kind)
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if _, err := kustomization.Find(dir); err == nil {
			s.followNoting(dir)
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	return s.standalone(path)
}

// standalone records the generators of a YAML file that nothing has
// reached yet, each with its own directory as root.
func (s *scanner) standalone(path string) error {
	f, err := s.loadIfGenerators(path)
	if err != nil || f == nil {
		return err
	}
	for d, doc := range f.Nodes {
		if api.IsGenerator(doc) {
			s.add(f, doc, docKey{file: path, inline: -1, doc: d}, "")
		}
	}
	return nil
}

// followNoting follows the kustomization in dir as a starting point; one
// that cannot be read is noted, not fatal: the others are still seen.
func (s *scanner) followNoting(dir string) {
	if err := s.follow(dir, ""); err != nil {
		s.notes = append(s.notes, Note{Where: genfile.Display(dir), Message: err.Error()})
	}
}
