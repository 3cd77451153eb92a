package secret

import "fmt"

// Pair is one key and value in source order, with a description of where it
// came from for error messages ("envs[0] app.env.encrypted, line 3").
type Pair struct {
	Key    string
	Value  string
	Origin string
}

// DataMap validates the keys of pairs and collects them into a map, with
// kustomize's rule that no key may be repeated across the generator's sources.
// Errors name the origin; an invalid key is not repeated in the message
// because it may be a misplaced secret value.
func DataMap(pairs []Pair) (map[string]string, error) {
	data := make(map[string]string, len(pairs))
	firstOrigin := make(map[string]string, len(pairs))
	for _, p := range pairs {
		if err := ValidateKey(p.Key); err != nil {
			return nil, fmt.Errorf("%s: invalid Secret key: %w", p.Origin, err)
		}
		if first, ok := firstOrigin[p.Key]; ok {
			return nil, fmt.Errorf("%s: key %q repeats the key from %s; every key must be unique across envs, literals and files", p.Origin, p.Key, first)
		}
		firstOrigin[p.Key] = p.Origin
		data[p.Key] = p.Value
	}
	return data, nil
}
