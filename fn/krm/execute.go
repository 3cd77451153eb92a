package krm

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Execute reads a ResourceList from rw, has p process it, and writes the
// ResourceList p leaves, results included, to rw, even when p fails; it
// returns p's error, or an error reading or writing. It keeps the path,
// index and id annotations and their legacy forms consistent, whichever p
// changed, as framework.Execute does.
func Execute(p Processor, rw *kio.ByteReadWriter) error {
	var rl ResourceList
	var err error
	if rl.Items, err = rw.Read(); err != nil {
		return fmt.Errorf("failed to read ResourceList input: %w", err)
	}
	rl.FunctionConfig = rw.FunctionConfig
	annotations, err := kio.PreprocessResourcesForInternalAnnotationMigration(rl.Items)
	if err != nil {
		return err
	}

	processErr := p.Process(&rl)

	if err := kio.ReconcileInternalAnnotations(rl.Items, annotations); err != nil {
		return err
	}
	if len(rl.Results) > 0 {
		b, err := yaml.Marshal(rl.Results)
		if err != nil {
			return err
		}
		if rw.Results, err = yaml.Parse(string(b)); err != nil {
			return err
		}
	}
	if err := rw.Write(rl.Items); err != nil {
		return err
	}
	return processErr
}
