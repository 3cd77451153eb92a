package krm

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ResourceList is a function's input and output: its items, its
// functionConfig, and the results it reports (framework.ResourceList).
type ResourceList struct {
	Items          []*yaml.RNode
	FunctionConfig *yaml.RNode
	Results        []*Result
}

// Processor is a KRM function: it reads and changes a ResourceList, and
// returns an error when it failed.
type Processor interface {
	Process(rl *ResourceList) error
}

// Severity is how bad a Result is.
type Severity string

// The severities of the KRM Functions Specification.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Result is one entry of ResourceList.results, in the specification's
// shape (and framework.Result's YAML): a message, its severity, and where
// it applies: a resource, a field of it, a file.
type Result struct {
	Message     string                   `yaml:"message,omitempty"`
	Severity    Severity                 `yaml:"severity,omitempty"`
	ResourceRef *yaml.ResourceIdentifier `yaml:"resourceRef,omitempty"`
	Field       *Field                   `yaml:"field,omitempty"`
	File        *File                    `yaml:"file,omitempty"`
	Tags        map[string]string        `yaml:"tags,omitempty"`
}

// Field is the field of a resource a Result is about, by path.
type Field struct {
	Path          string `yaml:"path,omitempty"`
	CurrentValue  any    `yaml:"currentValue,omitempty"`
	ProposedValue any    `yaml:"proposedValue,omitempty"`
}

// File is the file a Result is about, and the index of the resource in it.
type File struct {
	Path  string `yaml:"path,omitempty"`
	Index int    `yaml:"index,omitempty"`
}

// String is the result on one line, as framework.Result prints it:
// "[severity] apiVersion/kind/namespace/name field.path: message".
func (r Result) String() string {
	severity := r.Severity
	if severity == "" {
		severity = Info
	}
	s := fmt.Sprintf("[%s]", severity)
	if id := r.ResourceRef; id != nil {
		var parts []string
		for _, p := range []string{id.APIVersion, id.Kind, id.Namespace, id.Name} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) > 0 {
			s += " " + strings.Join(parts, "/")
		}
	}
	if r.Field != nil {
		s += " " + r.Field.Path
	}
	return s + ": " + r.Message
}

// ProcessorFunc is a function that is a Processor.
type ProcessorFunc func(rl *ResourceList) error

// Process calls f.
func (f ProcessorFunc) Process(rl *ResourceList) error { return f(rl) }
