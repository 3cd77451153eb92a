package fakekms

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// blobPrefix starts every ciphertext the fake makes.
const blobPrefix = "FAKEKMS1"

// Encrypt makes a ciphertext as KMS Encrypt would, for test fixtures.
func (s *Server) Encrypt(keyID string, context map[string]string, plaintext []byte) []byte {
	s.mu.Lock()
	k, err := s.resolve(keyID, "")
	for _, other := range s.keys { // a test fixture may name a key of any region
		if err == nil {
			break
		}
		k, err = s.resolve(keyID, other.region)
	}
	s.mu.Unlock()
	if err != nil {
		panic(fmt.Sprintf("fakekms: Encrypt with %q: %v", keyID, err))
	}
	return seal(k, context, plaintext)
}

// seal encrypts plaintext under k bound to context. The nonce derives from
// the key ID, context and plaintext, so the ciphertext is deterministic.
func seal(k *key, context map[string]string, plaintext []byte) []byte {
	aad := contextAAD(context)
	sum := sha256.Sum256(append(append([]byte(k.id), aad...), plaintext...))
	nonce := sum[:k.aead.NonceSize()]
	blob := append([]byte(blobPrefix+k.id+"|"), nonce...)
	return k.aead.Seal(blob, nonce, plaintext, aad)
}

// open reverses seal; it returns the key ID even when opening fails.
func (s *Server) open(blob []byte, context map[string]string) (*key, []byte, *apiError) {
	invalid := &apiError{Code: "InvalidCiphertextException"}
	rest, ok := strings.CutPrefix(string(blob), blobPrefix)
	if !ok {
		return nil, nil, invalid
	}
	id, sealed, ok := strings.Cut(rest, "|")
	if !ok {
		return nil, nil, invalid
	}
	k := s.keys[id]
	if k == nil || len(sealed) < k.aead.NonceSize() {
		return nil, nil, invalid
	}
	nonce, body := []byte(sealed[:k.aead.NonceSize()]), []byte(sealed[k.aead.NonceSize():])
	plaintext, err := k.aead.Open(nil, nonce, body, contextAAD(context))
	if err != nil {
		return k, nil, invalid
	}
	return k, plaintext, nil
}

// contextAAD is a canonical encoding of an encryption context.
func contextAAD(context map[string]string) []byte {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(context)) {
		fmt.Fprintf(&b, "%q=%q;", k, context[k])
	}
	return []byte(b.String())
}

// decrypt opens blob as Decrypt does: with the context, checking a pinned
// key and the key's state.
func (s *Server) decrypt(blob []byte, keyID, region string, context map[string]string) (*key, []byte, *apiError) {
	k, plaintext, apiErr := s.open(blob, context)
	if k != nil && keyID != "" {
		pinned, err := s.resolve(keyID, region)
		if err != nil {
			return nil, nil, err
		}
		if pinned != k {
			return nil, nil, &apiError{Code: "IncorrectKeyException", Message: "The key ID in the request does not identify a CMK that can perform this operation."}
		}
	}
	if k != nil {
		if err := inRegion(k, region); err != nil {
			return nil, nil, err
		}
	}
	if apiErr != nil {
		return nil, nil, apiErr
	}
	if err := usable(k); err != nil {
		return nil, nil, err
	}
	return k, plaintext, nil
}
