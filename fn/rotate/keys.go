package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envelope"
)

// KeysKMS is what adding keys to envelopes needs of KMS; *awskms.Client
// has it.
type KeysKMS interface {
	DecryptKey(ctx context.Context, t awskms.Target, blob []byte) ([]byte, string, error)
	DecryptAny(ctx context.Context, t awskms.Target, keys []awskms.Wrapped) ([]byte, string, error)
	EncryptKey(ctx context.Context, t awskms.Target, plaintext []byte) ([]byte, string, error)
}

// ErrDirect means keys were to be added to a direct KMS ciphertext, which
// has exactly one key.
var ErrDirect = errors.New("a direct KMS ciphertext has exactly one key")

// keysMode reports whether opts add or remove envelope keys rather than
// move ciphertexts to another key.
func (o Options) keysMode() bool { return len(o.AddKeyIDs)+len(o.RemoveKeyIDs) > 0 }

// rekey adds opts.AddKeyIDs to the envelope of it and removes
// opts.RemoveKeyIDs from it, into it.out, keeping its nonce, tag and body;
// it.changed says whether its key lines changed. Adding unwraps the data
// key with one usable key of the envelope (the generator's settings; a
// version 1 envelope's key is then recorded by its ARN), checks that it
// opens the body, and wraps it under each new key in that key's region.
func (it *item) rekey(ctx context.Context, kms KeysKMS, opts Options) error {
	src := it.refs[0].gen.src
	if it.ct.Form != ciphertext.Envelope {
		if len(opts.AddKeyIDs) == 0 {
			return nil // nothing of a direct ciphertext to remove
		}
		return fmt.Errorf("%w, so no key can be added to it: for a key in another region, use a KMS multi-region key (its replicas decrypt the same ciphertext); for keys in other accounts, encrypt the value again as a multi-key envelope (kmsgen encrypt --key-id A --key-id B), which is what --add-key-id works on", ErrDirect)
	}
	env := it.ct.Envelope
	keys := slices.Clone(env.Keys)
	if len(opts.AddKeyIDs) > 0 {
		var err error
		if keys, err = addKeys(ctx, kms, src, env, keys, opts.AddKeyIDs); err != nil {
			return err
		}
	}
	for _, r := range opts.RemoveKeyIDs {
		i := slices.IndexFunc(keys, func(k envelope.WrappedKey) bool { return k.KeyARN == r })
		if i < 0 {
			continue // not one of its keys: nothing to remove
		}
		if len(keys) == 1 {
			return fmt.Errorf("%s is the envelope's last key: removing it would leave nothing that can open it; add another key first (--add-key-id)", r)
		}
		if pin := src.KeyARN(); pin == r {
			return fmt.Errorf("%s is the key the generator's kms.keyId pins: set kms.keyId to another of the envelope's keys (or an alias) before removing it", r)
		}
		keys = slices.Delete(keys, i, i+1)
	}
	if slices.EqualFunc(keys, env.Keys, func(a, b envelope.WrappedKey) bool { return a.KeyARN == b.KeyARN }) {
		it.out = it.ct
		return nil
	}
	next := env.WithKeys(keys)
	it.out = ciphertext.Ciphertext{Blob: keys[0].Blob, Envelope: next, Form: ciphertext.Envelope}
	it.changed = true
	return it.check()
}

// addKeys unwraps env's data key and wraps it under each of add not yet in
// keys.
func addKeys(ctx context.Context, kms KeysKMS, src awskms.Target, env *envelope.Envelope, keys []envelope.WrappedKey, add []string) ([]envelope.WrappedKey, error) {
	var (
		dataKey []byte
		used    string
		err     error
	)
	if env.Version() == envelope.Version1 {
		dataKey, used, err = kms.DecryptKey(ctx, src, keys[0].Blob)
		if err == nil && !envelope.IsKeyARN(used) {
			clear(dataKey)
			err = fmt.Errorf("KMS did not say which key decrypted the data key (KeyId %q is not a key ARN), so the envelope's key cannot be recorded", used)
		}
	} else {
		dataKey, _, err = kms.DecryptAny(ctx, src, wrappedOf(keys))
	}
	if err != nil {
		return nil, fmt.Errorf("unwrapping the envelope's data key to wrap it under the new keys: %w", err)
	}
	defer clear(dataKey)
	payload, err := env.Open(dataKey, src.Context)
	if err != nil {
		return nil, err // tampered with, or another context: add no key to it
	}
	clear(payload)
	if env.Version() == envelope.Version1 {
		keys[0].KeyARN = used
	}
	for _, id := range add {
		if slices.ContainsFunc(keys, func(k envelope.WrappedKey) bool { return k.KeyARN == id }) {
			continue
		}
		t := src
		t.KeyID = id
		if (awskms.Target{KeyID: id}).KeyRegion() != "" {
			t.Region = "" // a key ARN names its region
		}
		blob, keyARN, err := kms.EncryptKey(ctx, t, dataKey)
		if err != nil {
			return nil, fmt.Errorf("wrapping the data key under %s: %w", id, err)
		}
		if slices.ContainsFunc(keys, func(k envelope.WrappedKey) bool { return k.KeyARN == keyARN }) {
			continue // an alias of a key it already has
		}
		if len(keys) == envelope.MaxKeys {
			return nil, fmt.Errorf("an envelope holds at most %d keys", envelope.MaxKeys)
		}
		keys = append(keys, envelope.WrappedKey{KeyARN: keyARN, Blob: blob})
	}
	return keys, nil
}

func wrappedOf(keys []envelope.WrappedKey) []awskms.Wrapped {
	out := make([]awskms.Wrapped, len(keys))
	for i, k := range keys {
		out[i] = awskms.Wrapped{KeyARN: k.KeyARN, Blob: k.Blob}
	}
	return out
}
