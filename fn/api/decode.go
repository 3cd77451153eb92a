package api

import (
	"fmt"
	"reflect"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/limits"
)

// Decode reads a KMSSecretGenerator from a YAML node, strictly: a field the
// API does not have, or a value of the wrong shape, is an error naming the
// field's path. Decode does not validate values; see Validate.
func Decode(rn *yaml.RNode) (*KMSSecretGenerator, error) {
	if rn == nil || rn.YNode() == nil {
		return nil, fmt.Errorf("no %s given", Kind)
	}
	node := rn.YNode()
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	if expandedSize(node, limits.Generator) > limits.Generator {
		return nil, fmt.Errorf("the %s is larger than %s once its YAML aliases are expanded: refused before decoding it (an alias bomb?)", Kind, limits.MiB(limits.Generator))
	}
	if err := checkShape(node, reflect.TypeOf(KMSSecretGenerator{}), ""); err != nil {
		return nil, err
	}
	var g KMSSecretGenerator
	if err := node.Decode(&g); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", Kind, err)
	}
	return &g, nil
}

// expandedSize is the size of n with its aliases expanded, as decoding it
// would make it (a byte per node and its scalars' bytes), counted only up
// to just past budget: the walk stops there, so an alias bomb costs no more
// than budget steps.
func expandedSize(n *yaml.Node, budget int64) int64 {
	var size int64
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || size > budget {
			return
		}
		size += 1 + int64(len(n.Value))
		if n.Kind == yaml.AliasNode {
			walk(n.Alias)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return size
}

// FieldError is a field that is unknown or has the wrong shape.
type FieldError struct {
	// Field is the field's path ("kms.keyID", "envs[0].key").
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Message }

// UnmarshalYAML accepts a path or {ciphertext: ...}.
func (s *EnvSource) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		s.Path = node.Value
		return nil
	}
	type plain EnvSource
	return node.Decode((*plain)(s))
}

// UnmarshalYAML accepts "[key=]path" or {key: ..., ciphertext: ...}.
func (s *FileSource) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		s.Spec = node.Value
		return nil
	}
	type plain FileSource
	return node.Decode((*plain)(s))
}

// scalarOrMapping lists the types written either as a string or as a mapping.
var scalarOrMapping = map[reflect.Type]bool{
	reflect.TypeOf(EnvSource{}):  true,
	reflect.TypeOf(FileSource{}): true,
}

// checkShape walks node alongside the Go type t and reports the first field
// t does not have, or a value whose YAML kind cannot fill t.
func checkShape(node *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	if node.Kind == yaml.ScalarNode && node.Tag == yaml.NodeTagNull {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind == yaml.ScalarNode && scalarOrMapping[t] {
			return nil
		}
		if node.Kind != yaml.MappingNode {
			return shapeError(path, "a mapping", node)
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			name := node.Content[i].Value
			field, ok := fieldByTag(t, name)
			if !ok {
				return unknownFieldError(t, join(path, name))
			}
			if err := checkShape(node.Content[i+1], field.Type, join(path, name)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return shapeError(path, "a list", node)
		}
		for i, item := range node.Content {
			if err := checkShape(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return shapeError(path, "a mapping", node)
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			if err := checkShape(node.Content[i+1], t.Elem(), join(path, node.Content[i].Value)); err != nil {
				return err
			}
		}
	default:
		if node.Kind != yaml.ScalarNode {
			return shapeError(path, "a "+t.Kind().String(), node)
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tagName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func unknownFieldError(t reflect.Type, path string) error {
	last := path[strings.LastIndex(path, ".")+1:]
	var known []string
	for i := 0; i < t.NumField(); i++ {
		if name := tagName(t.Field(i)); name != "" && name != "-" {
			if strings.EqualFold(name, last) {
				return &FieldError{Field: path, Message: fmt.Sprintf("unknown field %q in %s: did you mean %q?", path, Kind, name)}
			}
			known = append(known, name)
		}
	}
	return &FieldError{Field: path, Message: fmt.Sprintf("unknown field %q in %s (known here: %s)", path, Kind, strings.Join(known, ", "))}
}

func shapeError(path, want string, node *yaml.Node) error {
	shown := path
	if shown == "" {
		shown = "(top level)"
	}
	got := map[yaml.Kind]string{
		yaml.ScalarNode:   "a scalar",
		yaml.MappingNode:  "a mapping",
		yaml.SequenceNode: "a list",
	}[node.Kind]
	return &FieldError{Field: path, Message: fmt.Sprintf("field %q of %s must be %s, not %s", shown, Kind, want, got)}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
