// Package genfile reads and rewrites the YAML files that hold
// KMSSecretGenerators (generator files, and kustomizations with inline
// generators), keeping their formatting and comments, and writes them back
// atomically. The lifecycle commands (encrypt into a generator, reencrypt)
// edit generators through it; package repo finds them.
package genfile

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/limits"
	"kmsgen.dev/kmsgen/internal/atomicfile"
)

// File is a YAML file of one or more documents.
type File struct {
	Path  string
	Mode  fs.FileMode
	Nodes []*yaml.RNode
	// inline are the generators written as YAML strings in a
	// kustomization's generators list that were read with Inline.
	inline []*inline
}

// Display shows path relative to the working directory when it is below
// it, else as it is.
func Display(path string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return path
}

// Load reads a YAML file, keeping comments and sequence indentation.
func Load(path string) (*File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	content, err := limits.ReadFile(path, limits.YAML)
	if err != nil {
		return nil, err
	}
	// The reader's annotations (index, sequence indentation) are dropped
	// again by Bytes.
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(content), PreserveSeqIndent: true}).Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{Path: path, Mode: info.Mode().Perm(), Nodes: nodes}, nil
}

// Save writes the file's new content in place, atomically and with its
// mode kept; a symbolic link stays one (its target is rewritten).
func (f *File) Save() error {
	change, err := f.Change()
	if err != nil {
		return err
	}
	return atomicfile.Apply([]atomicfile.Change{change})
}

// Change is the file's new content as a change for atomicfile.Apply, to
// write together with others; a symbolic link stays one (its target is
// rewritten).
func (f *File) Change() (atomicfile.Change, error) {
	content, err := f.Bytes()
	if err != nil {
		return atomicfile.Change{}, err
	}
	path, err := filepath.EvalSymlinks(f.Path)
	if err != nil {
		return atomicfile.Change{}, err
	}
	return atomicfile.Change{Path: path, Content: content, Mode: f.Mode}, nil
}

// Bytes returns the file's new content, with edited inline generators
// written back into their entries.
func (f *File) Bytes() ([]byte, error) {
	if err := f.syncInline(); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	var b bytes.Buffer
	if err := (kio.ByteWriter{Writer: &b}).Write(f.Nodes); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return b.Bytes(), nil
}

// Generators returns the KMSSecretGenerator documents of f.
func (f *File) Generators() []*yaml.RNode {
	var out []*yaml.RNode
	for _, n := range f.Nodes {
		if api.IsGenerator(n) {
			out = append(out, n)
		}
	}
	return out
}
