// Package genfile finds KMSSecretGenerator files in a tree, works out the
// directory each one's paths are relative to, and rewrites generator files
// atomically, keeping their formatting and comments.
// The lifecycle commands (encrypt into a generator, reencrypt, check) work
// through it.
package genfile

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/kustomization"
	"kmsgen.dev/kmsgen/internal/atomicfile"
)

// File is a YAML file of one or more documents.
type File struct {
	Path  string
	Mode  fs.FileMode
	Nodes []*yaml.RNode
}

// Generator is one KMSSecretGenerator document of a File.
type Generator struct {
	File *File
	Node *yaml.RNode
	// Root is the directory its paths are relative to: the kustomization
	// that lists it (kustomize runs exec functions there), else its own
	// directory (kpt, kmsgen build).
	Root string
	// Kustomization is the kustomization file that lists it, if any.
	Kustomization string
}

// ID is the generator's namespace/name, or name, read without decoding it.
func (g *Generator) ID() string { return api.IDOf(g.Node) }

// Name names the generator in messages: file and namespace/name.
func (g *Generator) Name() string {
	return fmt.Sprintf("%s: KMSSecretGenerator %q", Display(g.File.Path), g.ID())
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

// IsExec reports whether the generator asks kustomize to run kmsgen as an
// exec function.
func (g *Generator) IsExec() bool {
	spec := g.Node.GetAnnotations()["config.kubernetes.io/function"]
	fn, err := yaml.Parse(spec)
	return err == nil && fn.Field("exec") != nil
}

// Load reads a YAML file, keeping comments and sequence indentation.
func Load(path string) (*File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	content, err := os.ReadFile(path)
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

// Bytes returns the file's new content.
func (f *File) Bytes() ([]byte, error) {
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

// Find returns the generators in paths: files, or directories searched
// recursively (hidden directories skipped). A file given explicitly must
// hold a generator.
func Find(paths []string) ([]*Generator, error) {
	var found []*Generator
	seen := map[string]bool{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, err
		}
		var files []string
		if info.IsDir() {
			if files, err = yamlFiles(abs); err != nil {
				return nil, err
			}
		} else {
			files = []string{abs}
		}
		for _, file := range files {
			if seen[file] {
				continue
			}
			seen[file] = true
			gens, err := generatorsIn(file)
			if err != nil {
				return nil, err
			}
			if !info.IsDir() && len(gens) == 0 {
				return nil, fmt.Errorf("%s holds no %s", p, api.Kind)
			}
			found = append(found, gens...)
		}
	}
	return found, nil
}

func yamlFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// generatorsIn loads file if it mentions the kind, and returns its
// generators with their roots.
func generatorsIn(file string) ([]*Generator, error) {
	content, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(content, []byte(api.Kind)) {
		return nil, nil
	}
	f, err := Load(file)
	if err != nil {
		return nil, err
	}
	var gens []*Generator
	for _, n := range f.Generators() {
		g := &Generator{File: f, Node: n, Root: filepath.Dir(file)}
		if k, root := listedBy(file); k != "" {
			g.Kustomization, g.Root = k, root
		}
		gens = append(gens, g)
	}
	return gens, nil
}

// listedBy finds the kustomization, in file's directory or above, whose
// generators list file; it returns its path and directory.
func listedBy(file string) (string, string) {
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if k, err := kustomization.Find(dir); err == nil && lists(k, file) {
			return k, dir
		}
		if parent := filepath.Dir(dir); parent == dir {
			return "", ""
		}
	}
}

func lists(kustomization, file string) bool {
	rn, err := yaml.ReadFile(kustomization)
	if err != nil {
		return false
	}
	entries, err := rn.Pipe(yaml.Lookup("generators"))
	if err != nil || entries == nil {
		return false
	}
	for _, n := range entries.Content() {
		if n.Kind == yaml.ScalarNode && filepath.Join(filepath.Dir(kustomization), n.Value) == file {
			return true
		}
	}
	return false
}
