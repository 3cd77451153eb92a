package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
// appended, as kustomize names generated Secrets (api/hasher). For the
// Secrets Build makes it computes the hash itself, in linear time:
// kustomize's hasher decodes the data map with yaml.v3, whose duplicate key
// check is quadratic (minutes for 10⁵ keys). TestHashMatchesKustomize holds
// the two together; other shapes go to kustomize's hasher.
func HashedName(rn *yaml.RNode) (string, error) {
	h, err := hash(rn)
	if err != nil {
		return "", fmt.Errorf("hashing Secret %q: %w", rn.GetName(), err)
	}
	return rn.GetName() + "-" + h, nil
}

func hash(rn *yaml.RNode) (string, error) {
	encoded, ok := encodeSecret(rn)
	if !ok {
		return (&hasher.Hasher{}).Hash(rn)
	}
	sum := sha256.Sum256(encoded)
	return encodeHash(hex.EncodeToString(sum[:])), nil
}

// encodeSecret is what kustomize's hasher hashes for a Secret: the JSON of
// its kind, type and data (keys sorted), and an empty name. ok is false for a shape
// kmsgen does not make (stringData, data that is not a map of strings).
func encodeSecret(rn *yaml.RNode) ([]byte, bool) {
	if rn.GetKind() != "Secret" || rn.Field("stringData") != nil {
		return nil, false
	}
	data := map[string]string{}
	if f := rn.Field(yaml.DataField); f != nil {
		n := f.Value.YNode()
		if n.Kind != yaml.MappingNode {
			return nil, false
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || v.Tag != yaml.NodeTagString {
				return nil, false
			}
			data[k.Value] = v.Value
		}
	}
	typ := ""
	if f := rn.Field("type"); f != nil {
		typ = f.Value.YNode().Value
	}
	// kustomize looks the name up as one field named "metadata/name", finds
	// none, and so hashes an empty name: so must kmsgen.
	encoded, err := json.Marshal(map[string]any{"kind": "Secret", "type": typ, "name": "", "data": data})
	return encoded, err == nil
}

// encodeHash turns a hex digest into kustomize's ten-character suffix
// (api/hasher's encode, from kubectl): no vowels, no 0, 1 or 3.
func encodeHash(hex string) string {
	enc := []rune(hex[:10])
	for i, r := range enc {
		switch r {
		case '0':
			enc[i] = 'g'
		case '1':
			enc[i] = 'h'
		case '3':
			enc[i] = 'k'
		case 'a':
			enc[i] = 'm'
		case 'e':
			enc[i] = 't'
		}
	}
	return string(enc)
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
