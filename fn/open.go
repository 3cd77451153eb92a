package fn

import (
	"context"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
)

// Open decrypts one ciphertext in any form (a KMS ciphertext as text or
// raw, or an envelope) under settings k, as a generator with those
// settings would: the KMS call, then the envelope's body. The caller
// clears the plaintext when done.
func Open(ctx context.Context, kms *awskms.Client, k api.KMS, ct ciphertext.Ciphertext) ([]byte, error) {
	plaintext, err := kms.Decrypt(ctx, Target(k), ct.Blob)
	if err != nil || ct.Envelope == nil {
		return plaintext, err
	}
	defer clear(plaintext)
	return ct.Envelope.Open(plaintext, k.EncryptionContext)
}
