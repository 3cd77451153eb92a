package genfile

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
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

// SetKMS sets the generator's kms.keyId and, when context is not nil,
// kms.encryptionContext.
func SetKMS(gen *yaml.RNode, keyID string, context map[string]string) error {
	if err := gen.PipeE(yaml.LookupCreate(yaml.MappingNode, "kms"), yaml.SetField("keyId", yaml.NewStringRNode(keyID))); err != nil {
		return err
	}
	if context == nil {
		return nil
	}
	ctx := yaml.NewMapRNode(&context)
	return gen.PipeE(yaml.LookupCreate(yaml.MappingNode, "kms"), yaml.SetField("encryptionContext", ctx))
}
