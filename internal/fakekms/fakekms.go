// Package fakekms is an AWS KMS stand-in for tests. It speaks KMS's real
// wire protocol (JSON 1.1 over HTTP, X-Amz-Target: TrentService.*), so the
// real SDK path runs against it: request signing, endpoint resolution,
// retries and error decoding. It implements Encrypt, Decrypt (with DryRun),
// ReEncrypt and GenerateDataKey for symmetric keys with KMS's rules
// (encryption context bound into the ciphertext, KeyId checked against the
// ciphertext's key, disabled and pending-deletion keys refused) and lets
// tests inject faults, delay or hold calls, and count them.
//
// Ciphertexts are deterministic for a given key ID, context and plaintext,
// and key material is derived from the key ID, so golden files can hold
// ciphertexts that any Server decrypts once the same key IDs are created.
package fakekms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of a new Server.
const (
	Region  = "eu-west-1"
	Account = "111122223333"
)

// blobPrefix starts every ciphertext the fake makes.
const blobPrefix = "FAKEKMS1"

// Key states.
const (
	Enabled         = "Enabled"
	Disabled        = "Disabled"
	PendingDeletion = "PendingDeletion"
)

// Call is what a test sees of one request, for faults and counting.
type Call struct {
	Operation  string // "Decrypt", "Encrypt", …
	KeyID      string // the KeyId parameter, if any
	Ciphertext []byte
	Context    map[string]string
	// Region is the region the request was signed for.
	Region string
	// DryRun is the request's DryRun flag (Decrypt).
	DryRun bool
	// N counts calls of this operation with this ciphertext so far,
	// starting at 1, so a fault can fail the first attempts only.
	N int
}

// Fault is what a FaultFunc makes the server do instead of, or before,
// answering normally.
type Fault struct {
	// Code and Message make an error response (HTTP Status, default 400).
	Code    string
	Message string
	Status  int
	// Delay is waited before answering (or until the client gives up).
	Delay time.Duration
	// ResponseKeyID replaces the KeyId of a successful Decrypt response.
	ResponseKeyID string
}

// FaultFunc decides, per call, whether to inject a Fault; nil means none.
type FaultFunc func(Call) *Fault

// Server is a running fake KMS on a loopback port.
type Server struct {
	URL string

	srv *httptest.Server

	mu          sync.Mutex
	keys        map[string]*key   // by key ID
	aliases     map[string]string // alias name → key ID
	fault       FaultFunc
	counts      map[string]int // Operation+ciphertext → calls
	calls       map[string]int // Operation → calls
	inFlight    int
	maxInFlight int
	hold        chan struct{}
}

type key struct {
	id    string
	state string
	aead  cipher.AEAD
}

// New starts a Server; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Server {
	s := &Server{keys: map[string]*key{}, aliases: map[string]string{}, counts: map[string]int{}, calls: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, releasing held calls first.
func (s *Server) Close() {
	s.Release()
	s.srv.Close()
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

// SetFault installs f (nil removes it).
func (s *Server) SetFault(f FaultFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Hold makes calls wait until Release, to observe concurrency.
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// Release lets held calls go on.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Calls returns how many calls of an operation the server received.
func (s *Server) Calls(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operation]
}

// InFlight returns the calls being handled now.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// MaxInFlight returns the most calls ever handled at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Encrypt makes a ciphertext as KMS Encrypt would, for test fixtures.
func (s *Server) Encrypt(keyID string, context map[string]string, plaintext []byte) []byte {
	s.mu.Lock()
	k, err := s.resolve(keyID)
	s.mu.Unlock()
	if err != nil {
		panic(fmt.Sprintf("fakekms: Encrypt with %q: %v", keyID, err))
	}
	return seal(k, context, plaintext)
}

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
func (s *Server) decrypt(blob []byte, keyID string, context map[string]string) (*key, []byte, *apiError) {
	k, plaintext, apiErr := s.open(blob, context)
	if k != nil && keyID != "" {
		pinned, err := s.resolve(keyID)
		if err != nil {
			return nil, nil, err
		}
		if pinned != k {
			return nil, nil, &apiError{Code: "IncorrectKeyException", Message: "The key ID in the request does not identify a CMK that can perform this operation."}
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

func usable(k *key) *apiError {
	switch k.state {
	case Disabled:
		return &apiError{Code: "DisabledException", Message: ARN(k.id) + " is disabled."}
	case PendingDeletion:
		return &apiError{Code: "KMSInvalidStateException", Message: ARN(k.id) + " is pending deletion."}
	}
	return nil
}

type apiError struct {
	Status  int
	Code    string
	Message string
}

type request struct {
	KeyId                        string            `json:"KeyId,omitempty"`
	CiphertextBlob               []byte            `json:"CiphertextBlob,omitempty"`
	Plaintext                    []byte            `json:"Plaintext,omitempty"`
	EncryptionContext            map[string]string `json:"EncryptionContext,omitempty"`
	KeySpec                      string            `json:"KeySpec,omitempty"`
	DryRun                       bool              `json:"DryRun,omitempty"`
	SourceKeyId                  string            `json:"SourceKeyId,omitempty"`
	SourceEncryptionContext      map[string]string `json:"SourceEncryptionContext,omitempty"`
	DestinationKeyId             string            `json:"DestinationKeyId,omitempty"`
	DestinationEncryptionContext map[string]string `json:"DestinationEncryptionContext,omitempty"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, &apiError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."})
		return
	}
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, &apiError{Code: "SerializationException", Message: err.Error()})
		return
	}

	fault, hold := s.begin(op, req, signingRegion(r.Header.Get("Authorization")))
	defer s.end()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil && fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil && fault.Code != "" {
		writeError(w, &apiError{Status: fault.Status, Code: fault.Code, Message: fault.Message})
		return
	}

	s.mu.Lock()
	resp, apiErr := s.handle(op, req)
	s.mu.Unlock()
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if fault != nil && fault.ResponseKeyID != "" {
		resp["KeyId"] = fault.ResponseKeyID
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Server) begin(op string, req request, region string) (*Fault, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	n := op + "\x00" + string(req.CiphertextBlob)
	s.counts[n]++
	var fault *Fault
	if s.fault != nil {
		fault = s.fault(Call{Operation: op, KeyID: req.KeyId, Ciphertext: req.CiphertextBlob, Context: req.EncryptionContext, Region: region, DryRun: req.DryRun, N: s.counts[n]})
	}
	return fault, s.hold
}

// signingRegion reads the region from a SigV4 credential scope:
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/kms/aws4_request, …".
func signingRegion(authorization string) string {
	_, scope, _ := strings.Cut(authorization, "Credential=")
	parts := strings.Split(scope, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

func (s *Server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
}

func (s *Server) handle(op string, req request) (map[string]any, *apiError) {
	switch op {
	case "Decrypt":
		k, plaintext, apiErr := s.decrypt(req.CiphertextBlob, req.KeyId, req.EncryptionContext)
		if apiErr != nil {
			return nil, apiErr
		}
		if req.DryRun {
			return nil, &apiError{Code: "DryRunOperationException", Message: "The request would have succeeded, but the DryRun option is set."}
		}
		return map[string]any{"KeyId": ARN(k.id), "Plaintext": plaintext, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
	case "ReEncrypt":
		_, plaintext, apiErr := s.decrypt(req.CiphertextBlob, req.SourceKeyId, req.SourceEncryptionContext)
		if apiErr != nil {
			return nil, apiErr
		}
		k, err := s.resolve(req.DestinationKeyId)
		if err != nil {
			return nil, err
		}
		if err := usable(k); err != nil {
			return nil, err
		}
		return map[string]any{"KeyId": ARN(k.id), "CiphertextBlob": seal(k, req.DestinationEncryptionContext, plaintext)}, nil
	case "GenerateDataKey":
		k, err := s.resolve(req.KeyId)
		if err != nil {
			return nil, err
		}
		if err := usable(k); err != nil {
			return nil, err
		}
		if req.KeySpec != "AES_256" {
			return nil, &apiError{Code: "ValidationException", Message: "fakekms supports KeySpec AES_256 only"}
		}
		dataKey := make([]byte, 32)
		if _, err := rand.Read(dataKey); err != nil {
			return nil, &apiError{Status: 500, Code: "KMSInternalException", Message: err.Error()}
		}
		return map[string]any{"KeyId": ARN(k.id), "Plaintext": dataKey, "CiphertextBlob": seal(k, req.EncryptionContext, dataKey)}, nil
	case "Encrypt":
		k, err := s.resolve(req.KeyId)
		if err != nil {
			return nil, err
		}
		if err := usable(k); err != nil {
			return nil, err
		}
		return map[string]any{"KeyId": ARN(k.id), "CiphertextBlob": seal(k, req.EncryptionContext, req.Plaintext), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
	}
	return nil, &apiError{Code: "UnknownOperationException", Message: "fakekms does not implement " + op}
}

func writeError(w http.ResponseWriter, e *apiError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}
