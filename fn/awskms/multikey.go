package awskms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// CodeNoUsableKey is the Code of a multi-key envelope none of whose keys
// could be used.
const CodeNoUsableKey = "NoUsableKey"

// fallbackCodes are the failures after which the next key of a multi-key
// envelope is tried: this key cannot be used here and now (no permission,
// disabled, gone, pending deletion or import, its custom key store or its
// region unavailable after the SDK's retries, its endpoint unreachable or
// silent). Anything else, and above all a ciphertext or context KMS
// refuses (InvalidCiphertextException, IncorrectKeyException) or a key
// that is not the one named, ends the attempt at once: another key would
// only hide tampering.
var fallbackCodes = []string{
	"AccessDeniedException", "DisabledException", "NotFoundException", "KMSInvalidStateException",
	"KeyUnavailableException", "KMSInternalException", "DependencyTimeoutException", "InternalFailure", "ServiceUnavailable",
	CodeUnreachable, CodeTimeout,
}

// FallsBack reports whether err, from decrypting one key's copy of a
// multi-key envelope's data key, lets the next key be tried.
func FallsBack(err error) bool {
	var e *Error
	return errors.As(err, &e) && slices.Contains(fallbackCodes, e.Code) && !errors.Is(e.Err, context.Canceled)
}

// KeyOrder returns the indices of keys in the order they are tried: those
// whose ARN is in region first, then the others, each group in the given
// order.
func KeyOrder(keys []Wrapped, region string) []int {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	rank := func(i int) int {
		if region != "" && (Target{KeyID: keys[i].KeyARN}).KeyRegion() == region {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rank(a), rank(b)) })
	return order
}

// DecryptAny decrypts the first usable of keys, copies of one plaintext
// under several keys, and returns the plaintext and the ARN of the key
// that decrypted it. See Request.Keys.
func (d *Client) DecryptAny(ctx context.Context, t Target, keys []Wrapped) ([]byte, string, error) {
	defer d.single()()
	return d.decryptAny(ctx, t, keys, d.decryptKey)
}

// DecryptKey decrypts blob under t and returns the plaintext and the ARN
// of the key KMS decrypted it with.
func (d *Client) DecryptKey(ctx context.Context, t Target, blob []byte) ([]byte, string, error) {
	defer d.single()()
	return d.decryptKey(ctx, t, blob)
}

// decryptAny tries keys in KeyOrder for the preferred region (t.Region,
// else the AWS configuration's, else that of t's key ARN), each with do,
// and goes on to the next only when FallsBack. When t pins a key ARN, it
// must be one of keys. When none can be used, the error lists each key
// with its own reason.
func (d *Client) decryptAny(ctx context.Context, t Target, keys []Wrapped, do func(context.Context, Target, []byte) ([]byte, string, error)) ([]byte, string, error) {
	if len(keys) == 0 {
		return nil, "", &Error{Code: CodeOther, What: "the envelope names no key"}
	}
	if pin := t.KeyARN(); pin != "" && !slices.ContainsFunc(keys, func(w Wrapped) bool { return w.KeyARN == pin }) {
		return nil, "", &Error{Code: CodeKeyMismatch,
			What: fmt.Sprintf("the envelope's data key is not wrapped under the key kms.keyId pins (%s), but under %s", pin, strings.Join(arns(keys), ", ")),
			Hint: "add that key to it (kmsgen reencrypt --add-key-id), or set kms.keyId to one of its keys"}
	}
	preferred := t.Region
	if preferred == "" {
		if cfg, err := d.config(ctx); err == nil {
			preferred = cfg.Region
		}
	}
	if preferred == "" {
		preferred = t.KeyRegion()
	}
	var reasons []string
	var last *Error
	for _, i := range KeyOrder(keys, preferred) {
		k := keys[i]
		kt := t
		kt.KeyID, kt.Region = k.KeyARN, (Target{KeyID: k.KeyARN}).KeyRegion()
		plaintext, keyARN, err := do(ctx, kt, k.Blob)
		if err == nil {
			return plaintext, keyARN, nil
		}
		if !FallsBack(err) || ctx.Err() != nil {
			if len(keys) == 1 {
				return nil, "", err
			}
			return nil, "", fmt.Errorf("key %s (not trying the envelope's other keys: this failure is not one of a key that cannot be used): %w", k.KeyARN, err)
		}
		errors.As(err, &last)
		reasons = append(reasons, fmt.Sprintf("%s: %s", k.KeyARN, last.What))
	}
	if len(keys) == 1 {
		return nil, "", last
	}
	return nil, "", &Error{Code: CodeNoUsableKey, Err: last,
		What: fmt.Sprintf("none of the envelope's %d keys could be used (tried in this order): %s", len(keys), strings.Join(reasons, "; ")),
		Hint: "grant the identity running kmsgen kms:Decrypt on one of them (IAM policy and key policy), enable it, or restore the network path to its region"}
}

func arns(keys []Wrapped) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.KeyARN
	}
	return out
}

// canDecryptKey is CanDecrypt with decryptKey's signature, for decryptAny.
func (d *Client) canDecryptKey(ctx context.Context, t Target, blob []byte) ([]byte, string, error) {
	return nil, t.KeyID, d.CanDecrypt(ctx, t, blob)
}

// EncryptKey encrypts plaintext as Encrypt does and also returns the ARN of
// the key KMS encrypted it under (an alias or key ID resolved).
func (d *Client) EncryptKey(ctx context.Context, t Target, plaintext []byte) ([]byte, string, error) {
	defer d.single()()
	out, w, err := d.encrypt(ctx, t, plaintext)
	if err != nil {
		return nil, "", err
	}
	keyARN, err := responseKeyARN(w, out.KeyId)
	return out.CiphertextBlob, keyARN, err
}

// GenerateDataKeyARN is GenerateDataKey that also returns the ARN of the
// key KMS wrapped the data key under.
func (d *Client) GenerateDataKeyARN(ctx context.Context, t Target) (plaintext, wrapped []byte, keyARN string, err error) {
	defer d.single()()
	out, w, err := d.generateDataKey(ctx, t)
	if err != nil {
		return nil, nil, "", err
	}
	if keyARN, err = responseKeyARN(w, out.KeyId); err != nil {
		clear(out.Plaintext)
		return nil, nil, "", err
	}
	return out.Plaintext, out.CiphertextBlob, keyARN, nil
}

// responseKeyARN checks that a response's KeyId is a key ARN.
func responseKeyARN(w where, keyID *string) (string, error) {
	a, err := arn.Parse(aws.ToString(keyID))
	if err != nil || a.Service != "kms" || a.Region == "" || !strings.HasPrefix(a.Resource, "key/") {
		return "", malformed(w, "no key ARN in KeyId")
	}
	return aws.ToString(keyID), nil
}
