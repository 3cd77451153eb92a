package secret

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Spec is everything a Secret is made from.
type Spec struct {
	Name      string
	Namespace string
	// Type is the Secret type; Opaque when empty.
	Type    string
	Options *types.GeneratorOptions
	// Data maps each key to its plaintext value.
	Data map[string]string
}

// Build makes the Secret node exactly as kustomize's builtin secretGenerator
// (api/internal/generators.MakeSecret) does: the same fields, in the same
// order, with the values written by kyaml's LoadMapIntoSecretData.
func Build(spec Spec) (*yaml.RNode, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("a Secret must have a name")
	}
	rn, err := yaml.Parse("apiVersion: v1\nkind: Secret\n")
	if err != nil {
		return nil, err
	}
	if err := rn.PipeE(yaml.SetK8sName(spec.Name)); err != nil {
		return nil, err
	}
	if spec.Namespace != "" {
		if err := rn.PipeE(yaml.SetK8sNamespace(spec.Namespace)); err != nil {
			return nil, err
		}
	}
	secretType := spec.Type
	if secretType == "" {
		secretType = "Opaque"
	}
	if err := rn.PipeE(yaml.FieldSetter{Name: "type", Value: yaml.NewStringRNode(secretType)}); err != nil {
		return nil, err
	}
	if err := rn.LoadMapIntoSecretData(spec.Data); err != nil {
		return nil, err
	}
	if err := applyOptions(rn, spec.Options); err != nil {
		return nil, err
	}
	tagKeysAsStrings(rn.YNode())
	return rn, nil
}

// tagKeysAsStrings marks every mapping key as a string. In memory kustomize
// treats the keys as strings whatever they look like, but written out
// untagged a key such as 53, true or null would be read back, by kustomize
// reading our output, as a number, a boolean or null. Tagged, the YAML
// encoder quotes exactly those keys.
func tagKeysAsStrings(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Tag == "" {
				k.Tag = yaml.NodeTagString
			}
		}
	}
	for _, c := range n.Content {
		tagKeysAsStrings(c)
	}
}

// applyOptions copies labels and annotations (sorted by key) and sets
// immutable, in kustomize's order.
func applyOptions(rn *yaml.RNode, opts *types.GeneratorOptions) error {
	if opts == nil {
		return nil
	}
	for _, k := range yaml.SortedMapKeys(opts.Labels) {
		if err := rn.PipeE(yaml.SetLabel(k, opts.Labels[k])); err != nil {
			return err
		}
	}
	for _, k := range yaml.SortedMapKeys(opts.Annotations) {
		if err := rn.PipeE(yaml.SetAnnotation(k, opts.Annotations[k])); err != nil {
			return err
		}
	}
	if opts.Immutable {
		immutable := &yaml.Node{Kind: yaml.ScalarNode, Value: "true", Tag: yaml.NodeTagBool}
		if err := rn.PipeE(yaml.FieldSetter{Name: "immutable", Value: yaml.NewRNode(immutable)}); err != nil {
			return err
		}
	}
	return nil
}
