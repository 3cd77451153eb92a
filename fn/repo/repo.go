// Package repo sees a repository as kustomize, kpt and Argo CD see it: which
// KMSSecretGenerators there are, where each one lives (a file, or an inline
// YAML string in a kustomization's generators), which kustomization runs it
// and so resolves its paths, which kustomizations reach it as a resource
// instead (kustomize then emits it as an object and never runs kmsgen), and
// which kpt package it belongs to.
//
// A kustomization is followed the way kustomize follows it
// (api/internal/target): resources and the deprecated bases (files and
// directories, ../ included), components, and generators (files,
// multi-document files, directories whose resources are generator
// configurations, and inline YAML strings). Remote bases (URLs) are not
// followed; they are reported. Nothing is decrypted and no generator is
// decoded beyond its apiVersion, kind and metadata.
package repo

import (
	"fmt"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/genfile"
)

// Fields of a kustomization that lead to other files.
const (
	Resources  = "resources"
	Bases      = "bases"
	Components = "components"
	Generators = "generators"
)

// Use is an entry of a kustomization that leads to a generator.
type Use struct {
	// Kustomization is the kustomization file.
	Kustomization string
	// Field is Resources, Bases, Components or Generators.
	Field string
	// Entry is the index of the entry in the field's list.
	Entry int
}

func (u Use) String() string {
	return fmt.Sprintf("%s %s[%d]", genfile.Display(u.Kustomization), u.Field, u.Entry)
}

// Generator is one KMSSecretGenerator document, as one host runs it.
type Generator struct {
	// File holds it: its own file, or for an inline generator the
	// kustomization whose generators list holds it as a YAML string.
	File *genfile.File
	// Node is the generator's document; edits to it are written back by
	// File.Bytes (into the string, for an inline generator).
	Node *yaml.RNode
	// Inline is the index of the generators entry of an inline generator,
	// -1 for a generator in a file of its own.
	Inline int
	// Root is the directory its paths resolve against: the kustomization
	// that runs it (kustomize runs exec functions there), else its own
	// file's directory (kpt, kmsgen build).
	Root string
	// Kustomization is the kustomization file that runs it: the one whose
	// generators list leads to it. Empty when none does.
	Kustomization string
	// Package is the kpt package it belongs to: the nearest directory
	// holding a Kptfile, at or above its file. Empty when there is none.
	Package string
	// AsResource are the entries that list its file under resources, bases
	// or components: kustomize emits it there as an object and never runs
	// kmsgen for it.
	AsResource []Use
}

// ID is the generator's namespace/name, or name.
func (g *Generator) ID() string { return api.IDOf(g.Node) }

// Where names the document: its file, and the generators entry of an
// inline generator.
func (g *Generator) Where() string {
	if g.Inline >= 0 {
		return fmt.Sprintf("%s (%s[%d])", genfile.Display(g.File.Path), Generators, g.Inline)
	}
	return genfile.Display(g.File.Path)
}

// Name names the generator in messages: where it is and its ID.
func (g *Generator) Name() string {
	return fmt.Sprintf("%s: %s %q", g.Where(), api.Kind, g.ID())
}

// IsExec reports whether the generator asks kustomize to run kmsgen as an
// exec function.
func (g *Generator) IsExec() bool {
	spec := g.Node.GetAnnotations()["config.kubernetes.io/function"]
	fn, err := yaml.Parse(spec)
	return err == nil && fn.Field("exec") != nil
}

// Reached reports whether a kustomization runs the generator or a kpt
// package holds it: else only `kmsgen build` expands it.
func (g *Generator) Reached() bool { return g.Kustomization != "" || g.Package != "" }

// Note is something about the repository that may hide a generator: an
// entry not followed, a kustomization that cannot be read.
type Note struct {
	// Where is the kustomization, and the entry when one is at fault.
	Where   string
	Message string
}

func (n Note) String() string { return n.Where + ": " + n.Message }

// Repository is what Scan found.
type Repository struct {
	// Generators in order of file, inline entry and document, then root.
	Generators []*Generator
	// Kustomizations are the kustomization files followed.
	Kustomizations []string
	// Notes are entries not followed: remote bases, paths that do not
	// exist or cannot be read.
	Notes []Note
}

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && (rel == "." || filepath.IsLocal(rel))
}

// isRemote reports whether a resources entry is a remote base kustomize
// would fetch (a git or http URL) rather than a local path.
func isRemote(entry string) bool {
	switch {
	case strings.Contains(entry, "://"), strings.HasPrefix(entry, "git@"):
		return true
	}
	// github.com/org/repo/path?ref=v1: a host name as the first segment
	first, _, _ := strings.Cut(entry, "/")
	return strings.Contains(first, ".") && first != "." && first != ".." && !strings.HasSuffix(first, ".yaml") &&
		!strings.HasSuffix(first, ".yml") && !strings.HasSuffix(first, ".json") && strings.Contains(entry, "/")
}
