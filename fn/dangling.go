package fn

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/krm"

	"kmsgen.dev/kmsgen/fn/api"
)

// danglingReferences warns about the fields of items (a generator's kpt
// package) that still hold the Secret's plain name after its references
// were rewritten to hashed: kmsgen rewrites only the fields kustomize's
// nameReference lists for Secrets (package nameref), so a custom resource's
// secretName, say, keeps a name no Secret has. Nothing is rewritten here:
// a string equal to the name is not proof of a reference. Fields under
// metadata, labels and selectors, and "name" fields not under a key that
// speaks of a secret (a volume's or a container's name), are passed over.
func danglingReferences(items []*yaml.RNode, gen *api.KMSSecretGenerator, hashed string) []*krm.Result {
	var out []*krm.Result
	for _, it := range items {
		if api.IsGenerator(it) || it.GetKind() == "Kptfile" || !sameNamespace(it, gen.Metadata.Namespace) {
			continue
		}
		walkStrings(it.YNode(), nil, func(path []string, value string) {
			if value != gen.Metadata.Name || !mayBeReference(path) {
				return
			}
			field := strings.Join(path, ".")
			out = append(out, &krm.Result{
				Severity: krm.Warning,
				Message: fmt.Sprintf("%s %s: %s is %q, the name of the Secret of %s %q before its hash suffix; the Secret is now %s, and kmsgen rewrites only the fields kustomize knows as Secret references, so this one points at no Secret: "+
					"refer to the Secret from a field kmsgen rewrites, or set options.disableNameSuffixHash: true in the generator",
					it.GetKind(), it.GetName(), field, value, api.Kind, gen.ID(), hashed),
				ResourceRef: &yaml.ResourceIdentifier{
					TypeMeta: yaml.TypeMeta{APIVersion: it.GetApiVersion(), Kind: it.GetKind()},
					NameMeta: yaml.NameMeta{Name: it.GetName(), Namespace: it.GetNamespace()},
				},
				Field: &krm.Field{Path: field},
				File:  &krm.File{Path: itemPath(it)},
			})
		})
	}
	return out
}

// sameNamespace reports whether a namespaced item is in namespace ("" and
// "default" are the same), as for the references kmsgen rewrites.
func sameNamespace(it *yaml.RNode, namespace string) bool {
	ns := it.GetNamespace()
	return ns == namespace || (ns == "" && namespace == "default") || (ns == "default" && namespace == "")
}

// mayBeReference reports whether a field at path may name a Secret.
func mayBeReference(path []string) bool {
	for _, p := range path {
		switch strings.ToLower(p) {
		case "metadata", "labels", "annotations", "selector", "matchlabels":
			return false
		}
	}
	if last := path[len(path)-1]; last == "name" && len(path) > 1 {
		return strings.Contains(strings.ToLower(path[len(path)-2]), "secret")
	}
	return true
}

// walkStrings calls f with the path and value of every string scalar under
// n; a list element's path segment is its parent's with "[i]".
func walkStrings(n *yaml.Node, path []string, f func([]string, string)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkStrings(c, path, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkStrings(n.Content[i+1], append(path[:len(path):len(path)], n.Content[i].Value), f)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := append([]string(nil), path...)
			if len(p) == 0 {
				p = []string{fmt.Sprintf("[%d]", i)}
			} else {
				p[len(p)-1] += fmt.Sprintf("[%d]", i)
			}
			walkStrings(c, p, f)
		}
	case yaml.ScalarNode:
		if len(path) > 0 && (n.Tag == "" || n.Tag == yaml.NodeTagString) {
			f(path, n.Value)
		}
	}
}
