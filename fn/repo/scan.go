package repo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/fn/kustomization"
	"kmsgen.dev/kmsgen/fn/limits"
)

// scanner collects generators while following kustomizations.
type scanner struct {
	files     map[string]*genfile.File // loaded YAML files, by absolute path
	gens      map[genKey]*Generator
	resources map[docKey][]Use // documents listed as resources
	followed  map[[2]string]bool
	// entered are the kustomizations another one reaches, each with the
	// runner it was reached under.
	entered  map[[2]string]bool
	edges    map[string][]string // kustomization → those its entries reach
	kusts    []string
	notes    []Note
	packages map[string]string // directory → its kpt package
}

// docKey names a generator document: file, inline entry (-1 for none) and
// document index.
type docKey struct {
	file   string
	inline int
	doc    int
}

// genKey is a document as one kustomization (or none) runs it.
type genKey struct {
	docKey
	runner string
}

func newScanner() *scanner {
	return &scanner{files: map[string]*genfile.File{}, gens: map[genKey]*Generator{},
		resources: map[docKey][]Use{}, followed: map[[2]string]bool{}, entered: map[[2]string]bool{},
		edges: map[string][]string{}, packages: map[string]string{}}
}

// follow accumulates the kustomization in dir as kustomize does. runner is
// the kustomization file whose generators list led here, whose generators
// then are the generator files this one lists as resources; "" when these
// are resources.
func (s *scanner) follow(dir, runner string) error {
	path, err := kustomization.Find(dir)
	if err != nil {
		return err
	}
	if s.followed[[2]string{path, runner}] {
		return nil
	}
	s.followed[[2]string{path, runner}] = true
	if !slices.Contains(s.kusts, path) {
		s.kusts = append(s.kusts, path)
	}
	k, err := s.load(path)
	if err != nil {
		return err
	}
	for _, field := range []string{Resources, Bases, Components} {
		for i, entry := range entries(k, field) {
			s.entry(Use{Kustomization: path, Field: field, Entry: i}, entry, runner)
		}
	}
	for i, entry := range entries(k, Generators) {
		use := Use{Kustomization: path, Field: Generators, Entry: i}
		if !genfile.IsInline(entry) {
			s.entry(use, entry, path)
			continue
		}
		docs, err := k.Inline(i)
		if err != nil {
			s.note(use, err.Error())
			continue
		}
		for d, doc := range docs {
			if api.IsGenerator(doc) {
				s.add(k, doc, docKey{file: path, inline: i, doc: d}, path)
			}
		}
	}
	return nil
}

// entry follows one path entry of a kustomization: a directory is a
// kustomization to follow, a file is read for generators, which runner
// runs (none: they are listed as resources).
func (s *scanner) entry(use Use, entry, runner string) {
	p := filepath.Join(filepath.Dir(use.Kustomization), entry)
	info, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist) && isRemote(entry):
		s.note(use, fmt.Sprintf("remote base %q not followed: generators in it are not seen", entry))
		return
	case err != nil:
		s.note(use, fmt.Sprintf("%q: %v", entry, err))
		return
	case info.IsDir():
		if err := s.follow(p, runner); err != nil {
			s.note(use, err.Error())
			return
		}
		k, _ := kustomization.Find(p)
		s.entered[[2]string{k, runner}] = true
		s.edges[use.Kustomization] = append(s.edges[use.Kustomization], k)
		return
	}
	f, err := s.loadIfGenerators(p)
	if err != nil {
		s.note(use, err.Error())
		return
	}
	if f == nil {
		return
	}
	for d, doc := range f.Nodes {
		if !api.IsGenerator(doc) {
			continue
		}
		key := docKey{file: f.Path, inline: -1, doc: d}
		if runner == "" {
			s.resources[key] = append(s.resources[key], use)
			s.add(f, doc, key, "") // known, even if nothing runs it
			continue
		}
		s.add(f, doc, key, runner)
	}
}

// add records a generator document run by runner ("" for none).
func (s *scanner) add(f *genfile.File, doc *yaml.RNode, key docKey, runner string) {
	gk := genKey{key, runner}
	if _, ok := s.gens[gk]; ok {
		return
	}
	g := &Generator{File: f, Node: doc, Inline: key.inline, Root: filepath.Dir(f.Path), Kustomization: runner}
	if runner != "" {
		g.Root = filepath.Dir(runner)
	}
	g.Package = s.packageOf(filepath.Dir(f.Path))
	s.gens[gk] = g
}

func (s *scanner) note(use Use, message string) {
	s.notes = append(s.notes, Note{Where: use.String(), Message: message})
}

// load reads a YAML file once, keeping its formatting for edits.
func (s *scanner) load(path string) (*genfile.File, error) {
	if f, ok := s.files[path]; ok {
		return f, nil
	}
	f, err := genfile.Load(path)
	if err != nil {
		return nil, err
	}
	s.files[path] = f
	return f, nil
}

// loadIfGenerators loads path when it may hold a generator (it mentions
// the kind), else returns nil.
func (s *scanner) loadIfGenerators(path string) (*genfile.File, error) {
	if f, ok := s.files[path]; ok {
		return f, nil
	}
	content, err := limits.ReadFile(path, limits.YAML)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(content, []byte(api.Kind)) {
		return nil, nil
	}
	return s.load(path)
}

// packageOf is the nearest directory at or above dir holding a Kptfile.
func (s *scanner) packageOf(dir string) string {
	if pkg, ok := s.packages[dir]; ok {
		return pkg
	}
	pkg := ""
	if info, err := os.Stat(filepath.Join(dir, "Kptfile")); err == nil && info.Mode().IsRegular() {
		pkg = dir
	} else if parent := filepath.Dir(dir); parent != dir {
		pkg = s.packageOf(parent)
	}
	s.packages[dir] = pkg
	return pkg
}

// repository returns what was found, in a stable order, keeping the
// generators keep reports.
func (s *scanner) repository(keep func(*Generator) bool) *Repository {
	r := &Repository{Kustomizations: s.kusts, Notes: s.notes}
	keys := make([]genKey, 0, len(s.gens))
	for k := range s.gens {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b genKey) int {
		if c := strings.Compare(a.file, b.file); c != 0 {
			return c
		}
		if a.inline != b.inline {
			return a.inline - b.inline
		}
		if a.doc != b.doc {
			return a.doc - b.doc
		}
		return strings.Compare(a.runner, b.runner)
	})
	run := map[docKey]bool{}
	for k := range s.gens {
		if k.runner != "" {
			run[k.docKey] = true
		}
	}
	for _, k := range keys {
		g := s.gens[k]
		if k.runner == "" {
			g.AsResource = slices.DeleteFunc(slices.Clone(s.resources[k.docKey]), s.onlyGeneratorDir)
			if len(g.AsResource) == 0 && run[k.docKey] {
				continue // some kustomization runs it: that entry stands for it
			}
		}
		if keep(g) {
			r.Generators = append(r.Generators, g)
		}
	}
	return r
}

// onlyGeneratorDir reports whether the kustomization of use is reached
// only as a directory of generator configurations (a generators entry): its
// resources are then generators that run, and no one builds it on its own.
func (s *scanner) onlyGeneratorDir(use Use) bool {
	k := use.Kustomization
	if s.entered[[2]string{k, ""}] {
		return false
	}
	for f := range s.followed {
		if f[0] == k && f[1] != "" {
			return true
		}
	}
	return false
}

// reachedFrom returns starts and every kustomization their entries lead to.
func (s *scanner) reachedFrom(starts []string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		for _, next := range s.edges[k] {
			visit(next)
		}
	}
	for _, k := range starts {
		visit(k)
	}
	return seen
}

// entries returns the string entries of a list field of a kustomization's
// first document.
func entries(k *genfile.File, field string) []string {
	if len(k.Nodes) == 0 {
		return nil
	}
	list := k.Nodes[0].Field(field)
	if list == nil || list.Value.YNode().Kind != yaml.SequenceNode {
		return nil
	}
	var out []string
	for _, n := range list.Value.YNode().Content {
		out = append(out, n.Value) // a non-string entry is no path: kustomize refuses it
	}
	return out
}
