package fn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// KustomizeYAML writes resources exactly as `kustomize build` prints them
// (each as JSON turned into YAML, so fields sorted, documents separated by
// ---), so that kmsgen build prints what kustomize would for the same
// generators. It converts each node to JSON itself, in linear time (a
// Secret of 10⁵ keys): kyaml's MarshalJSON decodes through yaml.v3, whose
// duplicate-key check is quadratic. A node of a shape it does not handle
// goes through MarshalJSON.
func KustomizeYAML(nodes []*yaml.RNode) ([]byte, error) {
	var buf bytes.Buffer
	for i, rn := range nodes {
		j, err := toJSON(rn)
		if err != nil {
			return nil, err
		}
		y, err := sigsyaml.JSONToYAML(j)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(y)
	}
	return buf.Bytes(), nil
}

func toJSON(rn *yaml.RNode) ([]byte, error) {
	v, err := jsonValue(rn.YNode())
	if err != nil {
		return rn.MarshalJSON()
	}
	return json.Marshal(v)
}

// jsonValue is n as the value encoding/json writes: mappings of string keys,
// sequences, and scalars by their tag (strings, booleans, integers, null).
func jsonValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("document of %d nodes", len(n.Content))
		}
		return jsonValue(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || (k.Tag != "" && k.Tag != yaml.NodeTagString) {
				return nil, fmt.Errorf("key of tag %s", k.Tag)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("key %q twice", k.Value)
			}
			v, err := jsonValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := jsonValue(c)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case yaml.NodeTagString:
			return n.Value, nil
		case yaml.NodeTagBool:
			return strconv.ParseBool(n.Value)
		case yaml.NodeTagInt:
			return strconv.ParseInt(n.Value, 10, 64)
		case yaml.NodeTagNull:
			return nil, nil
		}
	}
	return nil, fmt.Errorf("a node of kind %d, tag %s", n.Kind, n.ShortTag())
}
