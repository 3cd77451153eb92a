package api

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// IsGenerator reports whether rn is a KMSSecretGenerator (apiVersion and
// kind), without decoding it.
func IsGenerator(rn *yaml.RNode) bool {
	return rn.GetKind() == Kind && rn.GetApiVersion() == APIVersion
}

// ID names a generator in messages: "namespace/name", or "name" when the
// namespace is empty. Kubernetes names hold no "/", so SplitID reverses it.
func ID(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// SplitID returns the namespace and name of an ID.
func SplitID(id string) (namespace, name string) {
	if ns, n, ok := strings.Cut(id, "/"); ok {
		return ns, n
	}
	return "", id
}

// IDOf is the ID of the resource rn, read from its metadata without
// decoding it.
func IDOf(rn *yaml.RNode) string {
	return ID(rn.GetNamespace(), rn.GetName())
}

// ID is the generator's ID: namespace/name, or name.
func (g *KMSSecretGenerator) ID() string {
	return ID(g.Metadata.Namespace, g.Metadata.Name)
}
