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
	var (
		plaintext []byte
		err       error
	)
	if r := Request(Target(k), ct); r.Keys != nil {
		plaintext, _, err = kms.DecryptAny(ctx, r.Target, r.Keys)
	} else {
		plaintext, err = kms.Decrypt(ctx, r.Target, r.Blob)
	}
	if err != nil || ct.Envelope == nil {
		return plaintext, err
	}
	defer clear(plaintext)
	return ct.Envelope.Open(plaintext, k.EncryptionContext)
}

// Request is the KMS request that decrypts ct under t: its blob, or for a
// version 2 envelope its data key's copies, one of which is decrypted in
// its key's region (awskms.Request.Keys).
func Request(t awskms.Target, ct ciphertext.Ciphertext) awskms.Request {
	arns := ct.KeyARNs()
	if arns == nil {
		return awskms.Request{Blob: ct.Blob, Target: t}
	}
	keys := make([]awskms.Wrapped, len(arns))
	for i, k := range ct.Envelope.Keys {
		keys[i] = awskms.Wrapped{KeyARN: k.KeyARN, Blob: k.Blob}
	}
	return awskms.Request{Target: t, Keys: keys}
}
