package fn

import (
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// kptPackages tells which kpt package each item belongs to, so that a
// generator's Secret, the Secret it replaces and the references it rewrites
// stay in the generator's own package. kpt fn render gives every item the
// absolute path of its package (packagePathAnnotation) and a path relative
// to it; kpt fn eval gives none, and paths relative to the directory it was
// given, where each Kptfile item marks a package.
type kptPackages struct {
	// dirs are the directories of the Kptfile items, for eval.
	dirs []string
}

func newKptPackages(items []*yaml.RNode) kptPackages {
	var k kptPackages
	for _, it := range items {
		if it.GetKind() == "Kptfile" && it.GetAnnotations()[packagePathAnnotation] == "" {
			k.dirs = append(k.dirs, path.Dir(itemPath(it)))
		}
	}
	return k
}

// of returns the package of an item: its package path under render, else
// the directory of the nearest Kptfile item above it ("." for the root).
func (k kptPackages) of(it *yaml.RNode) string {
	if pkg := it.GetAnnotations()[packagePathAnnotation]; pkg != "" {
		return pkg
	}
	dir := path.Dir(itemPath(it))
	best := "."
	for _, d := range k.dirs {
		if d != "." && (dir == d || strings.HasPrefix(dir, d+"/")) && len(d) > len(best) {
			best = d
		}
	}
	return best
}

// in returns the items of package pkg.
func (k kptPackages) in(items []*yaml.RNode, pkg string) []*yaml.RNode {
	var out []*yaml.RNode
	for _, it := range items {
		if k.of(it) == pkg {
			out = append(out, it)
		}
	}
	return out
}
