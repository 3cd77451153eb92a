package fn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/limits"
	"kmsgen.dev/kmsgen/fn/secret"
)

// GeneratorFile is a file of generators: its YAML and the directory its
// paths are relative to.
type GeneratorFile struct {
	Name    string // for messages
	Content []byte
	Root    string
}

// Standalone generates the Secrets of every KMSSecretGenerator in files,
// named with kustomize's hash suffix (unless disableNameSuffixHash), ready
// for `kubectl apply`. Other kinds of documents are an error, and so is
// finding no generator at all.
func (g *Generator) Standalone(ctx context.Context, files []GeneratorFile) ([]*yaml.RNode, error) {
	var inputs []Input
	var errs Errors
	for _, f := range files {
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(f.Content), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		for i, rn := range nodes {
			if !api.IsGenerator(rn) {
				return nil, fmt.Errorf("%s: document %d is a %s %s, not a %s/%s", f.Name, i+1, rn.GetApiVersion(), rn.GetKind(), api.APIVersion, api.Kind)
			}
			in, err := NewInput(rn, f.Root, f.Name)
			if err != nil {
				errs = append(errs, asErrors(err, "")...)
				continue
			}
			inputs = append(inputs, in)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no %s found in the files given", api.Kind)
	}
	secrets, err := g.Generate(ctx, inputs)
	if err != nil {
		return nil, err
	}
	for i, rn := range secrets {
		if opts := inputs[i].Generator.Options; opts != nil && opts.DisableNameSuffixHash {
			continue
		}
		if err := secret.AppendHash(rn); err != nil {
			return nil, err
		}
	}
	return secrets, nil
}

// ReadGeneratorFile reads a generator file, or stdin for "-"; its paths
// are relative to the file's directory (the working directory for stdin).
func ReadGeneratorFile(path string, stdin io.Reader) (GeneratorFile, error) {
	if path == "-" {
		content, err := limits.ReadAll(stdin, limits.YAML, "stdin")
		if err != nil {
			return GeneratorFile{}, fmt.Errorf("reading stdin: %w", err)
		}
		dir, err := os.Getwd()
		return GeneratorFile{Name: "(stdin)", Content: content, Root: dir}, err
	}
	content, err := limits.ReadFile(path, limits.YAML)
	if err != nil {
		return GeneratorFile{}, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	return GeneratorFile{Name: path, Content: content, Root: dir}, err
}
