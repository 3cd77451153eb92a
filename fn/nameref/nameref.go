// Package nameref rewrites references to a Secret whose name changed, in
// the fields where kustomize's nameReference transformer rewrites them (pod
// specs of every workload kind, env and envFrom, volumes and projected
// volumes, imagePullSecrets, Ingress tls and auth annotations, ServiceAccount
// imagePullSecrets, StorageClass parameters, Role resourceNames, ...). Hosts
// without kustomize's name-reference step, such as kpt, need it to keep a
// hash-suffixed Secret referenced.
package nameref

import (
	_ "embed"
	"fmt"
	"slices"
	"sync"

	"sigs.k8s.io/kustomize/api/filters/fieldspec"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

//go:embed secret-references.yaml
var secretReferencesYAML []byte

// secretReferences are the fields that refer to a Secret by name, parsed
// on first use: only kpt needs them, and parsing them at every start would
// cost every kustomize build.
var secretReferences = sync.OnceValue(func() []types.FieldSpec {
	var specs []types.FieldSpec
	if err := yaml.Unmarshal(secretReferencesYAML, &specs); err != nil {
		panic(fmt.Sprintf("nameref: secret-references.yaml: %v", err))
	}
	return specs
})

// clusterScoped are the referrer kinds without a namespace: like kustomize,
// they may refer to a Secret in any namespace.
var clusterScoped = map[string]bool{"ClusterRole": true, "StorageClass": true, "PersistentVolume": true}

// RenameSecret rewrites, in items, every reference to a Secret of namespace
// named one of from so that it names to instead. As in kustomize, a
// namespaced referrer must be in the Secret's namespace ("" and "default"
// are the same), a cluster-scoped one may refer to any.
func RenameSecret(items []*yaml.RNode, namespace string, from []string, to string) error {
	rename := func(node *yaml.RNode) {
		if node.YNode().Kind == yaml.ScalarNode && slices.Contains(from, node.YNode().Value) {
			node.YNode().Value = to
		}
	}
	setValue := func(node *yaml.RNode) error {
		if node.YNode().Kind == yaml.SequenceNode { // Role rules[].resourceNames
			for _, element := range node.Content() {
				rename(yaml.NewRNode(element))
			}
			return nil
		}
		rename(node)
		return nil
	}
	for _, item := range items {
		if !clusterScoped[item.GetKind()] && effectiveNamespace(item.GetNamespace()) != effectiveNamespace(namespace) {
			continue
		}
		for _, spec := range secretReferences() {
			if _, err := (fieldspec.Filter{FieldSpec: spec, SetValue: setValue}).Filter(item); err != nil {
				return fmt.Errorf("rewriting references to Secret %q in %s %s: %w", to, item.GetKind(), item.GetName(), err)
			}
		}
	}
	return nil
}

func effectiveNamespace(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}
