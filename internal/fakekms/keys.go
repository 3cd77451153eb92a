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

// key is a symmetric key: its ID, state and AES-GCM cipher, and its
// region when it was created in one (CreateKeyIn); a key without one is
// in Region and answers requests signed for any region.
type key struct {
	id     string
	state  string
	aead   cipher.AEAD
	region string
}

// arn is the key's ARN, in its region.
func (k *key) arn() string {
	if k.region == "" {
		return ARN(k.id)
	}
	return RegionalARN(k.region, k.id)
}

// RegionalARN returns the key ARN of a key ID in region.
func RegionalARN(region, keyID string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, Account, keyID)
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

// CreateKeyIn adds an enabled symmetric key in region, as CreateKey, and
// returns its ARN. Like a KMS key, it is found and used only by requests
// signed for its region (else NotFoundException); its ciphertexts name it.
func (s *Server) CreateKeyIn(region, id string, aliases ...string) string {
	s.CreateKey(id, aliases...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id].region = region
	return s.keys[id].arn()
}

// SetKeyState sets a key's state (Enabled, Disabled, PendingDeletion).
func (s *Server) SetKeyState(id, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id].state = state
}

// resolve finds a key by ID, key ARN, alias name or alias ARN, for a
// request signed for region.
func (s *Server) resolve(keyID, region string) (*key, *apiError) {
	notFound := &apiError{Code: "NotFoundException", Message: fmt.Sprintf("Key '%s' does not exist", keyID)}
	id := keyID
	arnRegion := ""
	if rest, ok := strings.CutPrefix(id, "arn:aws:kms:"); ok {
		r, rest, _ := strings.Cut(rest, ":")
		account, rest, _ := strings.Cut(rest, ":")
		if account != Account {
			return nil, notFound
		}
		arnRegion, id = r, rest
	}
	if alias, ok := s.aliases[id]; ok {
		id = alias
	}
	id = strings.TrimPrefix(id, "key/")
	k, ok := s.keys[id]
	switch {
	case !ok:
		return nil, notFound
	case k.region != "" && (region != k.region || (arnRegion != "" && arnRegion != k.region)):
		return nil, notFound
	}
	return k, nil
}

// inRegion refuses a key from another region than the request's.
func inRegion(k *key, region string) *apiError {
	if k.region != "" && region != k.region {
		return &apiError{Code: "NotFoundException", Message: fmt.Sprintf("Key '%s' does not exist", k.arn())}
	}
	return nil
}

// usable refuses a disabled or pending-deletion key as KMS does.
func usable(k *key) *apiError {
	switch k.state {
	case Disabled:
		return &apiError{Code: "DisabledException", Message: k.arn() + " is disabled."}
	case PendingDeletion:
		return &apiError{Code: "KMSInvalidStateException", Message: k.arn() + " is pending deletion."}
	}
	return nil
}
