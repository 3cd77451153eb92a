package secret

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/hasher"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Kustomize's annotations for generator output: ask kustomize to add the
// name hash, and say how to combine with a Secret of the same name.
const (
	NeedsHashAnnotation = "kustomize.config.k8s.io/needs-hash"
	BehaviorAnnotation  = "kustomize.config.k8s.io/behavior"
)

// HashedName returns the Secret's name with kustomize's content hash
// appended, as kustomize names generated Secrets.
func HashedName(rn *yaml.RNode) (string, error) {
	h, err := (&hasher.Hasher{}).Hash(rn)
	if err != nil {
		return "", fmt.Errorf("hashing Secret %q: %w", rn.GetName(), err)
	}
	return rn.GetName() + "-" + h, nil
}

// AppendHash renames the Secret to its hashed name.
func AppendHash(rn *yaml.RNode) error {
	name, err := HashedName(rn)
	if err != nil {
		return err
	}
	return rn.SetName(name)
}

// MarkForKustomize adds the annotations that make kustomize treat rn as its
// own generators' output: hash the name (unless disabled), and merge or
// replace per behavior.
func MarkForKustomize(rn *yaml.RNode, needsHash bool, behavior string) error {
	if needsHash {
		if err := rn.PipeE(yaml.SetAnnotation(NeedsHashAnnotation, "true")); err != nil {
			return err
		}
	}
	if behavior != "" {
		if err := rn.PipeE(yaml.SetAnnotation(BehaviorAnnotation, behavior)); err != nil {
			return err
		}
	}
	return nil
}
