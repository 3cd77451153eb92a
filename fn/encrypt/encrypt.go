// Package encrypt turns a plaintext into the ciphertext text kmsgen commits:
// up to KMS's 4096-byte limit, exactly what `aws kms encrypt --query
// CiphertextBlob --output text` prints (so `aws kms decrypt` still works);
// above it, an envelope (package envelope) sealed with a fresh KMS data key
// that is erased after use.
package encrypt

import (
	"context"
	"encoding/base64"
	"errors"
	"io"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/fn/limits"
)

// ErrEmpty means there was nothing to encrypt: KMS cannot encrypt an empty
// plaintext, and an empty value needs no secret.
var ErrEmpty = errors.New("nothing to encrypt: the plaintext is empty")

// Read reads a plaintext to encrypt from r (named what in errors), at most
// limits.Payload bytes.
func Read(r io.Reader, what string) ([]byte, error) {
	return limits.ReadAll(r, limits.Payload, what)
}

// ReadFile reads a plaintext to encrypt from the regular file at path, at
// most limits.Payload bytes.
func ReadFile(path string) ([]byte, error) {
	return limits.ReadFile(path, limits.Payload)
}

// Text encrypts plaintext under k.KeyID bound to k.EncryptionContext,
// reaching KMS as a generator with settings k would (region, endpoint,
// role).
func Text(ctx context.Context, kms *awskms.Client, k api.KMS, plaintext []byte) ([]byte, error) {
	t := fn.Target(k)
	switch {
	case len(plaintext) == 0:
		return nil, ErrEmpty
	case len(plaintext) > limits.Payload:
		return nil, limits.Error("the plaintext", limits.Payload)
	}
	if len(plaintext) <= awskms.MaxPlaintext {
		blob, err := kms.Encrypt(ctx, t, plaintext)
		if err != nil {
			return nil, err
		}
		return []byte(base64.StdEncoding.EncodeToString(blob) + "\n"), nil
	}
	dataKey, wrapped, err := kms.GenerateDataKey(ctx, t)
	if err != nil {
		return nil, err
	}
	defer clear(dataKey)
	env, err := envelope.Seal(wrapped, dataKey, t.Context, plaintext)
	if err != nil {
		return nil, err
	}
	return env.Marshal(), nil
}
