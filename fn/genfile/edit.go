package genfile

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
)

// SetLiteral sets literals entry key of generator gen to KEY=ciphertext,
// replacing the entry of that key or appending one. A multi-line
// ciphertext (an envelope) is written as a literal block.
func SetLiteral(gen *yaml.RNode, key, ciphertext string) error {
	list, err := gen.Pipe(yaml.LookupCreate(yaml.SequenceNode, "literals"))
	if err != nil {
		return err
	}
	entry := &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: key + "=" + strings.TrimSuffix(ciphertext, "\n")}
	if strings.Contains(entry.Value, "\n") {
		entry.Style = yaml.LiteralStyle
	}
	for i, n := range list.YNode().Content {
		if k, _, ok := strings.Cut(n.Value, "="); ok && k == key && n.Kind == yaml.ScalarNode {
			entry.HeadComment, entry.LineComment = n.HeadComment, n.LineComment
			list.YNode().Content[i] = entry
			return nil
		}
	}
	list.YNode().Content = append(list.YNode().Content, entry)
	return nil
}

// SetInline replaces the inline ciphertext of source s of generator gen
// (an envs or files entry {ciphertext: ...}, or a literal KEY=<ciphertext>)
// with text, in place: the entry keeps its position, its comments and its
// style, and a literal keeps the quotes around its ciphertext. A multi-line
// text (an envelope) is written as a literal block where YAML allows it.
func SetInline(gen *yaml.RNode, s api.Source, text string) error {
	if s.Path != "" {
		return fmt.Errorf("%s: not an inline ciphertext", s)
	}
	name, index, ok := strings.Cut(strings.TrimSuffix(s.Field, "]"), "[")
	i, err := strconv.Atoi(index)
	if !ok || err != nil {
		return fmt.Errorf("source field %q: want NAME[INDEX]", s.Field)
	}
	list := gen.Field(name)
	if list == nil || list.Value.YNode().Kind != yaml.SequenceNode || i < 0 || i >= len(list.Value.YNode().Content) {
		return fmt.Errorf("%s: no such entry in the generator", s.Field)
	}
	entry := list.Value.YNode().Content[i]
	text = strings.TrimSuffix(text, "\n")
	if s.Kind == api.Literal {
		if entry.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s: not a KEY=<ciphertext> string", s.Field)
		}
		key, old, _ := strings.Cut(entry.Value, "=")
		q := api.Quote(old)
		setScalar(entry, key+"="+q+text+q)
		return nil
	}
	if entry.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: not a {ciphertext: ...} entry", s.Field)
	}
	for j := 0; j+1 < len(entry.Content); j += 2 {
		if entry.Content[j].Value == "ciphertext" {
			setScalar(entry.Content[j+1], text)
			return nil
		}
	}
	return fmt.Errorf("%s: no ciphertext field", s.Field)
}

// setScalar sets a string scalar's value, keeping its comments and style
// unless a multi-line value needs a literal block.
func setScalar(n *yaml.Node, value string) {
	n.Kind, n.Tag, n.Value = yaml.ScalarNode, yaml.NodeTagString, value
	if strings.Contains(value, "\n") {
		n.Style = yaml.LiteralStyle
	}
}

// NewGenerator returns a new generator document named name, which
// kustomize runs as an exec function (path kmsgen), with the kms settings
// k (SetKMS's form, then region, endpoint and roleArn when set) and no
// sources yet.
func NewGenerator(name string, k api.KMS) (*yaml.RNode, error) {
	gen, err := yaml.Parse("apiVersion: " + api.APIVersion + "\nkind: " + api.Kind +
		"\nmetadata:\n  name: _\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: kmsgen\n")
	if err != nil {
		return nil, err
	}
	if err := gen.PipeE(yaml.SetK8sName(name)); err != nil {
		return nil, err
	}
	var context map[string]string
	if len(k.EncryptionContext) > 0 {
		context = k.EncryptionContext
	}
	if err := SetKMS(gen, k.KeyID, context); err != nil {
		return nil, err
	}
	kms := gen.Field("kms").Value
	for _, f := range [][2]string{{"region", k.Region}, {"endpoint", k.Endpoint}, {"roleArn", k.RoleARN}} {
		if f[1] != "" {
			setField(kms, f[0], &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: f[1]})
		}
	}
	return gen, nil
}

// SetKMS sets the generator's kms.keyId and, when context is not nil,
// kms.encryptionContext (keys sorted). Values it replaces keep their
// comments and style (a flow mapping stays a flow mapping).
func SetKMS(gen *yaml.RNode, keyID string, context map[string]string) error {
	kms, err := gen.Pipe(yaml.LookupCreate(yaml.MappingNode, "kms"))
	if err != nil {
		return err
	}
	setField(kms, "keyId", &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: keyID})
	if context == nil {
		return nil
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
	for _, k := range slices.Sorted(maps.Keys(context)) {
		m.Content = append(m.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: context[k]})
	}
	setField(kms, "encryptionContext", m)
	return nil
}

// setField sets field name of mapping m to v, keeping the comments of the
// value it replaces, and its style when the kinds match.
func setField(m *yaml.RNode, name string, v *yaml.Node) {
	if f := m.Field(name); f != nil {
		old := f.Value.YNode()
		v.HeadComment, v.LineComment, v.FootComment = old.HeadComment, old.LineComment, old.FootComment
		if old.Kind == v.Kind && !(v.Kind == yaml.ScalarNode && old.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0) {
			v.Style = old.Style
		}
		*old = *v
		return
	}
	m.YNode().Content = append(m.YNode().Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: name}, v)
}
