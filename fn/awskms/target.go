package awskms

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Target says where a ciphertext is decrypted and what it is bound to.
type Target struct {
	// KeyID is sent as KeyId when set: key ID, key ARN, alias or alias ARN.
	KeyID string
	// Context is the encryption context, sent when non-empty.
	Context map[string]string
	// Region, when set, overrides the region of an ARN KeyID and the
	// region of the AWS configuration.
	Region string
	// Endpoint, when set, overrides the KMS endpoint URL.
	Endpoint string
	// RoleARN, when set, is assumed through STS before decrypting.
	RoleARN string
}

// Request is one ciphertext to decrypt.
type Request struct {
	Blob   []byte
	Target Target
	// Keys, when not nil, replace Blob: copies of one plaintext, each
	// wrapped under its own key (a multi-key envelope's data key), of which
	// the first usable one is decrypted (see Client.DecryptAny). Target
	// gives the encryption context, endpoint and role, and the preferred
	// region; each copy is decrypted in its key's region, pinned to its key.
	Keys []Wrapped
}

// Wrapped is one key's copy of a multi-key envelope's data key.
type Wrapped struct {
	// KeyARN is the key's ARN, which names its region.
	KeyARN string
	// Blob is the KMS ciphertext of the data key under that key.
	Blob []byte
}

// KeyARN returns KeyID when it is a key ARN (not an alias ARN), else "".
// Only then must Decrypt's response name the same key.
func (t Target) KeyARN() string {
	a, err := arn.Parse(t.KeyID)
	if err != nil || a.Service != "kms" || !strings.HasPrefix(a.Resource, "key/") {
		return ""
	}
	return t.KeyID
}

// KeyRegion returns the region of an ARN KeyID (key or alias ARN), else "".
func (t Target) KeyRegion() string {
	if a, err := arn.Parse(t.KeyID); err == nil {
		return a.Region
	}
	return ""
}

// ContextString shows an encryption context in messages, unambiguously
// whatever its keys and values hold (commas, '=', quotes): a JSON object
// with sorted keys, {"app":"demo","env":"prod"}, as the AWS CLI takes it;
// "none" when empty. (The context is not secret: KMS logs it in clear.)
func ContextString(ctx map[string]string) string {
	if len(ctx) == 0 {
		return "none"
	}
	var b strings.Builder
	b.WriteString("{")
	for i, k := range slices.Sorted(maps.Keys(ctx)) {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(jsonString(k) + ":" + jsonString(ctx[k]))
	}
	b.WriteString("}")
	return b.String()
}

// jsonString is s as a JSON string, without escaping <, > and &.
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
