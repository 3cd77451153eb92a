package fakekms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"strings"
)

// Defaults of a new Server.
const (
	Region  = "eu-west-1"
	Account = "111122223333"
)

// Key states.
const (
	Enabled         = "Enabled"
	Disabled        = "Disabled"
	PendingDeletion = "PendingDeletion"
)

// key is a symmetric key: its ID, state and AES-GCM cipher.
type key struct {
	id    string
	state string
	aead  cipher.AEAD
}

// ARN returns the key ARN of a key ID.
func ARN(keyID string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", Region, Account, keyID)
}

// AliasARN returns the alias ARN of an alias name ("alias/x").
func AliasARN(alias string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:%s", Region, Account, alias)
}

// CreateKey adds an enabled symmetric key with the given ID and aliases
// ("alias/name") and returns its ARN. Key material derives from the ID.
func (s *Server) CreateKey(id string, aliases ...string) string {
	sum := sha256.Sum256([]byte("fakekms key material " + id))
	block, _ := aes.NewCipher(sum[:])
	aead, _ := cipher.NewGCM(block)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id] = &key{id: id, state: Enabled, aead: aead}
	for _, a := range aliases {
		s.aliases[a] = id
	}
	return ARN(id)
}

// SetKeyState sets a key's state (Enabled, Disabled, PendingDeletion).
func (s *Server) SetKeyState(id, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id].state = state
}

// resolve finds a key by ID, key ARN, alias name or alias ARN.
func (s *Server) resolve(keyID string) (*key, *apiError) {
	id := keyID
	if rest, ok := strings.CutPrefix(id, fmt.Sprintf("arn:aws:kms:%s:%s:", Region, Account)); ok {
		id = rest
	}
	if alias, ok := s.aliases[id]; ok {
		id = alias
	}
	id = strings.TrimPrefix(id, "key/")
	if k, ok := s.keys[id]; ok {
		return k, nil
	}
	return nil, &apiError{Code: "NotFoundException", Message: fmt.Sprintf("Key '%s' does not exist", keyID)}
}

// usable refuses a disabled or pending-deletion key as KMS does.
func usable(k *key) *apiError {
	switch k.state {
	case Disabled:
		return &apiError{Code: "DisabledException", Message: ARN(k.id) + " is disabled."}
	case PendingDeletion:
		return &apiError{Code: "KMSInvalidStateException", Message: ARN(k.id) + " is pending deletion."}
	}
	return nil
}
