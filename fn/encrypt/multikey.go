package encrypt

import (
	"context"
	"fmt"
	"slices"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/fn/limits"
)

// TextKeys is Text for the keys keyIDs: with none, Text under k.KeyID;
// else MultiKey.
func TextKeys(ctx context.Context, kms *awskms.Client, k api.KMS, keyIDs []string, plaintext []byte) ([]byte, error) {
	if len(keyIDs) == 0 {
		return Text(ctx, kms, k, plaintext)
	}
	return MultiKey(ctx, kms, k, keyIDs, plaintext)
}

// MultiKey encrypts plaintext, whatever its size, as a version 2 envelope
// whose data key is wrapped under each of keyIDs (key IDs, key ARNs,
// aliases or alias ARNs), bound to k.EncryptionContext, and recorded with
// each key's ARN as KMS reports it (so an alias is recorded as the key it
// names). Each key is called in its own region: a key ARN's, else
// k.Region, else the AWS configuration's; k's endpoint and role apply to
// all. The data key comes from KMS GenerateDataKey under the first key and
// is erased after use. Two IDs that name one key are refused.
func MultiKey(ctx context.Context, kms *awskms.Client, k api.KMS, keyIDs []string, plaintext []byte) ([]byte, error) {
	switch {
	case len(plaintext) == 0:
		return nil, ErrEmpty
	case len(plaintext) > limits.Payload:
		return nil, limits.Error("the plaintext", limits.Payload)
	case len(keyIDs) == 0:
		return nil, fmt.Errorf("no key to encrypt under")
	case len(keyIDs) > envelope.MaxKeys:
		return nil, fmt.Errorf("%d keys: an envelope holds at most %d", len(keyIDs), envelope.MaxKeys)
	}
	target := func(id string) awskms.Target {
		t := fn.Target(k)
		t.KeyID = id
		if t.KeyRegion() != "" {
			t.Region = "" // a key ARN names its region
		}
		return t
	}
	dataKey, wrapped, keyARN, err := kms.GenerateDataKeyARN(ctx, target(keyIDs[0]))
	if err != nil {
		return nil, err
	}
	defer clear(dataKey)
	keys := []envelope.WrappedKey{{KeyARN: keyARN, Blob: wrapped}}
	for i, id := range keyIDs[1:] {
		blob, keyARN, err := kms.EncryptKey(ctx, target(id), dataKey)
		if err != nil {
			return nil, err
		}
		if j := slices.IndexFunc(keys, func(w envelope.WrappedKey) bool { return w.KeyARN == keyARN }); j >= 0 {
			return nil, fmt.Errorf("%s and %s name the same key (%s): give each key once", keyIDs[j], keyIDs[i+1], keyARN)
		}
		keys = append(keys, envelope.WrappedKey{KeyARN: keyARN, Blob: blob})
	}
	env, err := envelope.Seal(nil, dataKey, k.EncryptionContext, plaintext)
	if err != nil {
		return nil, err
	}
	env.Keys = keys
	return env.Marshal(), nil
}
