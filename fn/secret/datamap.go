package secret

import "fmt"

// Pair is one key and value in source order, with where it came from.
type Pair struct {
	Key   string
	Value string
	// Origin describes the source for messages
	// (`envs[0] "app.env.encrypted" line 3`).
	Origin string
	// Field is the source's field in the generator ("envs[0]").
	Field string
	// KeyIsPlaintext marks a key read from secret content (a decrypted or plaintext env file): it may be a
	// secret typed on a line of its own, so no message may quote it.
	KeyIsPlaintext bool
}

// PairError is a problem with one pair.
type PairError struct {
	Pair Pair
	Err  error
}

func (e *PairError) Error() string { return e.Pair.Origin + ": " + e.Err.Error() }

func (e *PairError) Unwrap() error { return e.Err }

// DataMap validates the keys of pairs and collects them into a map, with
// kustomize's rule that no key may be repeated across the generator's
// sources. Errors are *PairError; a key read from secret content is never
// quoted in them.
func DataMap(pairs []Pair) (map[string]string, error) {
	data := make(map[string]string, len(pairs))
	firstOrigin := make(map[string]string, len(pairs))
	for _, p := range pairs {
		if err := ValidateKey(p.Key); err != nil {
			return nil, &PairError{Pair: p, Err: fmt.Errorf("invalid Secret key: %w", err)}
		}
		if first, ok := firstOrigin[p.Key]; ok {
			key := fmt.Sprintf("key %q", p.Key)
			if p.KeyIsPlaintext {
				key = "the key (not shown: it was read from secret content)"
			}
			return nil, &PairError{Pair: p, Err: fmt.Errorf("%s repeats the key from %s; every key must be unique across envs, literals and files", key, first)}
		}
		firstOrigin[p.Key] = p.Origin
		data[p.Key] = p.Value
	}
	return data, nil
}
