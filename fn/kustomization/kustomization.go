// Package kustomization reads the generatorOptions of the kustomization in
// a directory. kustomize merges them into its builtin generators but never
// passes them to generator plugins; kmsgen, run by kustomize as an exec
// function in the root of the kustomization that lists it, reads them
// itself and merges them the way kustomize does.
package kustomization

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/limits"
)

// ErrNotFound means the directory holds no kustomization file.
var ErrNotFound = errors.New("no kustomization file")

// Find returns the path of the kustomization file in dir, trying the names
// kustomize recognises in kustomize's order.
func Find(dir string) (string, error) {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
			return p, nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%w (%v) in %s", ErrNotFound, konfig.RecognizedKustomizationFileNames(), dir)
}

// GeneratorOptions returns the generatorOptions of the kustomization file
// in dir (nil when it has none) and the file's path.
func GeneratorOptions(dir string) (*types.GeneratorOptions, string, error) {
	path, err := Find(dir)
	if err != nil {
		return nil, "", err
	}
	content, err := limits.ReadFile(path, limits.YAML)
	if err != nil {
		return nil, path, fmt.Errorf("reading %s: %w", path, err)
	}
	rn, err := yaml.Parse(string(content))
	if err != nil {
		return nil, path, fmt.Errorf("reading %s: %w", path, err)
	}
	field := rn.Field("generatorOptions")
	if field == nil || yaml.IsYNodeEmptyMap(field.Value.YNode()) {
		return nil, path, nil
	}
	var opts types.GeneratorOptions
	if err := field.Value.YNode().Decode(&opts); err != nil {
		return nil, path, fmt.Errorf("reading generatorOptions of %s: %w", path, err)
	}
	return &opts, path, nil
}

// Merge returns local with global merged in as kustomize merges a
// kustomization's generatorOptions into each of its generators: local labels
// and annotations win, and a global true wins for the booleans. Neither
// argument is modified.
func Merge(local, global *types.GeneratorOptions) *types.GeneratorOptions {
	var copied *types.GeneratorOptions
	if local != nil {
		c := *local
		c.Labels = cloneMap(local.Labels)
		c.Annotations = cloneMap(local.Annotations)
		copied = &c
	}
	return types.MergeGlobalOptionsIntoLocal(copied, global)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return types.CopyMap(m)
}
