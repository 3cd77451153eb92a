package genfile

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// inline is one entry of a kustomization's generators list written as a
// YAML string: kustomize reads such a string as the generator's resource
// itself (api/internal/target, configureExternalGenerators).
type inline struct {
	entry *yaml.Node // the string in the list
	docs  []*yaml.RNode
	// text is docs written out as loaded: Bytes writes the entry again
	// only when its documents were edited.
	text string
}

// IsInline reports whether a generators entry is inline YAML rather than a
// path: kustomize tries it as resources first and takes it as a path only
// when that fails. A path never holds a newline or a "kind:" mapping.
func IsInline(entry string) bool {
	docs, err := readDocs(entry)
	if err != nil {
		return false
	}
	for _, d := range docs {
		if d.GetKind() != "" {
			return true
		}
	}
	return false
}

// Inline returns the documents of entry i of the first document's
// generators list, a YAML string (see IsInline). Edits to them are written
// back into the entry, as a string of the same style, by Bytes.
func (f *File) Inline(i int) ([]*yaml.RNode, error) {
	entry := f.generatorsEntry(i)
	for _, in := range f.inline {
		if entry != nil && in.entry == entry {
			return in.docs, nil
		}
	}
	if entry == nil || entry.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("%s: generators[%d] is not a YAML string", f.Path, i)
	}
	docs, err := readDocs(entry.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: generators[%d]: %w", f.Path, i, err)
	}
	text, err := writeDocs(docs)
	if err != nil {
		return nil, fmt.Errorf("%s: generators[%d]: %w", f.Path, i, err)
	}
	f.inline = append(f.inline, &inline{entry: entry, docs: docs, text: text})
	return docs, nil
}

// generatorsEntry is entry i of the first document's generators list, or
// nil.
func (f *File) generatorsEntry(i int) *yaml.Node {
	if len(f.Nodes) == 0 {
		return nil
	}
	list := f.Nodes[0].Field("generators")
	if list == nil || list.Value.YNode().Kind != yaml.SequenceNode {
		return nil
	}
	content := list.Value.YNode().Content
	if i < 0 || i >= len(content) {
		return nil
	}
	return content[i]
}

// syncInline writes edited inline documents back into their entries.
func (f *File) syncInline() error {
	for _, in := range f.inline {
		text, err := writeDocs(in.docs)
		if err != nil {
			return err
		}
		if text == in.text {
			continue
		}
		in.text = text
		if !strings.HasSuffix(in.entry.Value, "\n") {
			text = strings.TrimSuffix(text, "\n") // a |- block stays one
		}
		in.entry.Value = text
		if in.entry.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
			in.entry.Style = yaml.LiteralStyle
		}
	}
	return nil
}

func readDocs(text string) ([]*yaml.RNode, error) {
	return (&kio.ByteReader{Reader: strings.NewReader(text), PreserveSeqIndent: true}).Read() // its annotations are dropped again by writeDocs
}

func writeDocs(docs []*yaml.RNode) (string, error) {
	var b bytes.Buffer
	if err := (kio.ByteWriter{Writer: &b}).Write(docs); err != nil {
		return "", err
	}
	return b.String(), nil
}
