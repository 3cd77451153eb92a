package encrypt

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/fn/secret"
)

// KeyError is a literal key that is not a valid Secret key.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return fmt.Sprintf("%q: %v", e.Key, e.Err) }

func (e *KeyError) Unwrap() error { return e.Err }

// ConflictError is a kms setting given to the command that contradicts the
// generator's own.
type ConflictError struct {
	// Path is the generator file.
	Path string
	// Field is the kms field: keyId, region, endpoint, roleArn or
	// encryptionContext.
	Field string
	// Given and Have are the given value and the generator's, as shown.
	Given, Have string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s contradicts kms.%s %s in %s (to move a generator to another key or encryption context, use kmsgen reencrypt)",
		e.Given, e.Field, e.Have, e.Path)
}

// Literal is one literals entry of a generator file, ready to be set.
type Literal struct {
	file *genfile.File
	// Key is the literal's key.
	Key string
	// KMS is the generator's kms settings, completed by the caller's.
	KMS api.KMS
	// Keys, when set, are the keys Set encrypts under, as a multi-key
	// envelope (MultiKey); else KMS.KeyID.
	Keys []string
}

// ForLiteral loads path, which must hold exactly one KMSSecretGenerator,
// for setting its literal key, which must be a valid Secret key (else a
// *KeyError). Its KMS is the generator's kms settings;
// given settings fill those the generator lacks but may not contradict it
// (a *ConflictError: moving a generator to another key or context is
// `kmsgen reencrypt`'s job). Nothing is encrypted or written.
func ForLiteral(path, key string, given api.KMS) (*Literal, error) {
	if err := secret.ValidateKey(key); err != nil {
		return nil, &KeyError{Key: key, Err: err}
	}
	f, err := genfile.Load(path)
	if err != nil {
		return nil, err
	}
	if n := len(f.Generators()); n != 1 {
		return nil, fmt.Errorf("%s holds %d %ss; a literal can be set in a file with exactly one", path, n, api.Kind)
	}
	gen, err := api.Decode(f.Generators()[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	k, conflict := complete(gen.KMS, given)
	if conflict != nil {
		conflict.Path = path
		return nil, conflict
	}
	return &Literal{file: f, Key: key, KMS: k}, nil
}

// complete fills the settings gen lacks from given; a given setting that
// differs from gen's is a *ConflictError.
func complete(gen, given api.KMS) (api.KMS, *ConflictError) {
	for _, f := range []struct {
		name        string
		given, have *string
	}{
		{"keyId", &given.KeyID, &gen.KeyID},
		{"region", &given.Region, &gen.Region},
		{"endpoint", &given.Endpoint, &gen.Endpoint},
		{"roleArn", &given.RoleARN, &gen.RoleARN},
	} {
		switch {
		case *f.given == "":
		case *f.have == "":
			*f.have = *f.given
		case *f.given != *f.have:
			return gen, &ConflictError{Field: f.name, Given: fmt.Sprintf("%q", *f.given), Have: fmt.Sprintf("%q", *f.have)}
		}
	}
	if given.EncryptionContext != nil {
		if gen.EncryptionContext != nil && !maps.Equal(given.EncryptionContext, gen.EncryptionContext) {
			return gen, &ConflictError{Field: "encryptionContext",
				Given: awskms.ContextString(given.EncryptionContext), Have: awskms.ContextString(gen.EncryptionContext)}
		}
		gen.EncryptionContext = given.EncryptionContext
	}
	return gen, nil
}

// Set encrypts plaintext with TextKeys under l.KMS and l.Keys, sets it as the literal
// (replacing the key's entry or adding one, comments and formatting kept)
// and rewrites the generator file atomically.
func (l *Literal) Set(ctx context.Context, kms *awskms.Client, plaintext []byte) error {
	text, err := TextKeys(ctx, kms, l.KMS, l.Keys, plaintext)
	if err != nil {
		return err
	}
	if err := genfile.SetLiteral(l.file.Generators()[0], l.Key, string(text)); err != nil {
		return err
	}
	return l.file.Save()
}

// Path is the generator file's path.
func (l *Literal) Path() string { return l.file.Path }

// Current returns the literal's ciphertext as the generator holds it, and
// whether it has one.
func (l *Literal) Current() (string, bool) {
	gen, err := api.Decode(l.file.Generators()[0])
	if err != nil {
		return "", false
	}
	for _, entry := range gen.Literals {
		if key, ct, ok := strings.Cut(entry, "="); ok && key == l.Key {
			return ct, true
		}
	}
	return "", false
}
