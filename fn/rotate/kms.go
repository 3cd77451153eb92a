package rotate

import (
	"context"
	"fmt"

	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/internal/plural"
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
	if env.Version() != envelope.Version1 {
		return fmt.Errorf("the envelope's data key is wrapped under %s: move it to another key with --add-key-id NEWKEY --remove-key-id OLDKEY (which keeps its other keys), not --key-id", plural.Count(len(env.Keys), "recorded key", "recorded keys"))
	}
	wrappedOld := env.Keys[0].Blob
	next := env.WithKeys(nil)
	if !sameContext(src.Context, dst.Context) {
		// The context is in the body's additional data: open the body
		// under the old context and seal it again under the new one,
		// with the same data key (which ReEncrypt moves below).
		dataKey, err := kms.Decrypt(ctx, src, wrappedOld)
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
	wrapped, err := kms.ReEncrypt(ctx, src, dst, wrappedOld)
	if err != nil {
		return err
	}
	next.Keys = []envelope.WrappedKey{{Blob: wrapped}}
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
