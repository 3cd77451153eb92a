package rotate

import (
	"context"
	"fmt"

	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envelope"
)

// rotate re-encrypts one ciphertext from its first reference's settings to
// their destination, into it.out.
func (it *item) rotate(ctx context.Context, kms KMS) error {
	src, dst := it.refs[0].gen.src, it.refs[0].gen.dst
	if it.ct.Form != ciphertext.Envelope {
		blob, err := kms.ReEncrypt(ctx, src, dst, it.ct.Blob)
		if err != nil {
			return err
		}
		it.out = ciphertext.Ciphertext{Blob: blob, Form: it.ct.Form}
		return it.check()
	}
	env := it.ct.Envelope
	next := &envelope.Envelope{Nonce: env.Nonce, Tag: env.Tag, Body: env.Body}
	if !sameContext(src.Context, dst.Context) {
		// The context is in the body's additional data: open the body
		// under the old context and seal it again under the new one,
		// with the same data key (which ReEncrypt moves below).
		dataKey, err := kms.Decrypt(ctx, src, env.DataKey)
		if err != nil {
			return fmt.Errorf("decrypting the envelope's data key to seal its body again for the new context: %w", err)
		}
		defer clear(dataKey)
		payload, err := env.Open(dataKey, src.Context)
		if err != nil {
			return err
		}
		defer clear(payload)
		if next, err = envelope.Seal(nil, dataKey, dst.Context, payload); err != nil {
			return err
		}
		it.resealed = true
	}
	wrapped, err := kms.ReEncrypt(ctx, src, dst, env.DataKey)
	if err != nil {
		return err
	}
	next.DataKey = wrapped
	it.out = ciphertext.Ciphertext{Blob: wrapped, Envelope: next, Form: ciphertext.Envelope}
	return it.check()
}

// check makes sure the new ciphertext reads back as it will be written.
func (it *item) check() error {
	back, err := ciphertext.Parse(it.out.Bytes(), it.path != "")
	if err != nil || back.Form != it.out.Form {
		return fmt.Errorf("KMS returned a ciphertext that would not read back as %s (%v); nothing was written", it.out.Form, err)
	}
	return nil
}
