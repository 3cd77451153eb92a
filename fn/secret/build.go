package secret

import (
	"encoding/base64"
	"fmt"
	"strings"

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
	if err := loadSecretData(rn, spec.Data); err != nil {
		return nil, err
	}
	if err := applyOptions(rn, spec.Options); err != nil {
		return nil, err
	}
	tagKeysAsStrings(rn.YNode())
	return rn, nil
}

// loadSecretData sets rn's data to m exactly as kyaml's
// LoadMapIntoSecretData does (keys sorted, values base64 in lines of 70,
// literal style when multi-line, double quotes for what YAML 1.1 would
// read as another type), but in linear time: kyaml looks each key up in the
// keys set before it, which takes minutes for an env file of 10⁵ lines.
// TestLoadSecretDataMatchesKyaml holds the two together.
func loadSecretData(rn *yaml.RNode, m map[string]string) error {
	data, err := rn.Pipe(yaml.LookupCreate(yaml.MappingNode, yaml.DataField))
	if err != nil {
		return err
	}
	content := make([]*yaml.Node, 0, 2*len(m))
	for _, k := range yaml.SortedMapKeys(m) {
		v := &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: encodeBase64(m[k])}
		switch {
		case strings.Contains(v.Value, "\n"):
			v.Style = yaml.LiteralStyle
		case yaml.IsYaml1_1NonString(v):
			v.Style = yaml.DoubleQuotedStyle
		}
		content = append(content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
	}
	data.YNode().Content = append(data.YNode().Content, content...)
	return nil
}

// encodeBase64 is kyaml's: standard base64 in lines of 70 characters, each
// ended by a newline once there are two or more.
func encodeBase64(s string) string {
	const lineLen = 70
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	if len(enc) < lineLen {
		return enc
	}
	var b strings.Builder
	b.Grow(len(enc) + len(enc)/lineLen + 1)
	for i := 0; i < len(enc); i += lineLen {
		b.WriteString(enc[i:min(i+lineLen, len(enc))])
		b.WriteByte('\n')
	}
	return b.String()
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
