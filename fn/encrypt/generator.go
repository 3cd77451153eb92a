package encrypt

import (
	"context"
	"fmt"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/envfile"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/fn/secret"
)

// NewGenerator encrypts each value of the plaintext env file env on its
// own under k and returns a new generator named name, as YAML, with one
// literal per key in the file's order and k as its kms settings, so that a
// review shows which keys changed. Keys are checked as the generator will
// check them; an empty value is refused (KMS cannot encrypt it). With
// keyIDs, each value is a multi-key envelope under them (MultiKey). Errors
// name lines, never a key or a value: a line of an env file may be a
// secret typed where a key belongs.
func NewGenerator(ctx context.Context, kms *awskms.Client, k api.KMS, name string, env []byte, keyIDs ...string) ([]byte, error) {
	entries, err := envfile.Parse(env)
	if err != nil {
		return nil, fmt.Errorf("the env file: %w", err)
	}
	gen, err := genfile.NewGenerator(name, k)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(entries); err != nil {
		return nil, err
	}
	for _, entry := range entries {
		if entry.Value == "" {
			return nil, fmt.Errorf("the env file: line %d has an empty value, which KMS cannot encrypt: give it a value, or leave the line out", entry.Line)
		}
		text, err := TextKeys(ctx, kms, k, keyIDs, []byte(entry.Value))
		if err != nil {
			return nil, fmt.Errorf("the env file: line %d: %w", entry.Line, err)
		}
		if err := genfile.SetLiteral(gen, entry.Key, string(text)); err != nil {
			return nil, err
		}
	}
	return []byte(gen.MustString()), nil
}

// checkKeys applies the Secret's key rules (secret.DataMap: valid and
// unique keys) to the env file's entries before anything is encrypted.
func checkKeys(entries []envfile.Entry) error {
	pairs := make([]secret.Pair, len(entries))
	for i, e := range entries {
		pairs[i] = secret.Pair{Key: e.Key, Origin: fmt.Sprintf("line %d", e.Line), KeyIsPlaintext: true}
	}
	if _, err := secret.DataMap(pairs); err != nil {
		return fmt.Errorf("the env file: %w", err)
	}
	return nil
}
