package fakekms

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

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

// apiError is a KMS error response: HTTP status (0 means 400), __type and message.
type apiError struct {
	Status  int
	Code    string
	Message string
}

// request holds the JSON fields of the operations the fake implements.
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

// serve checks the protocol and signature, applies faults and holds,
// then answers with handle.
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

	fault, hold := s.begin(op, req, r)
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
	if fault != nil && fault.CutBody {
		cutBody(w)
		return
	}
	if fault != nil && fault.Body != "" {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(fault.Body))
		return
	}

	_, region := signingScope(r.Header.Get("Authorization"))
	s.mu.Lock()
	resp, apiErr := s.handle(op, req, region)
	s.mu.Unlock()
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if fault != nil && fault.ResponseKeyID != "" {
		resp["KeyId"] = fault.ResponseKeyID
	}
	if fault != nil {
		for _, field := range fault.Omit {
			delete(resp, field)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(resp)
}

// signingScope reads the access key ID and the region from a SigV4
// credential scope: "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/kms/aws4_request, …".
func signingScope(authorization string) (accessKeyID, region string) {
	_, scope, _ := strings.Cut(authorization, "Credential=")
	parts := strings.Split(scope, "/")
	if len(parts) < 3 {
		return "", ""
	}
	return parts[0], parts[2]
}

// handle runs one operation; s.mu is held.
func (s *Server) handle(op string, req request, region string) (map[string]any, *apiError) {
	switch op {
	case "Decrypt":
		k, plaintext, apiErr := s.decrypt(req.CiphertextBlob, req.KeyId, region, req.EncryptionContext)
		if apiErr != nil {
			return nil, apiErr
		}
		if req.DryRun {
			return nil, &apiError{Code: "DryRunOperationException", Message: "The request would have succeeded, but the DryRun option is set."}
		}
		return map[string]any{"KeyId": k.arn(), "Plaintext": plaintext, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
	case "ReEncrypt":
		_, plaintext, apiErr := s.decrypt(req.CiphertextBlob, req.SourceKeyId, region, req.SourceEncryptionContext)
		if apiErr != nil {
			return nil, apiErr
		}
		k, err := s.resolve(req.DestinationKeyId, region)
		if err != nil {
			return nil, err
		}
		if err := usable(k); err != nil {
			return nil, err
		}
		return map[string]any{"KeyId": k.arn(), "CiphertextBlob": seal(k, req.DestinationEncryptionContext, plaintext)}, nil
	case "GenerateDataKey":
		k, err := s.resolve(req.KeyId, region)
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
		return map[string]any{"KeyId": k.arn(), "Plaintext": dataKey, "CiphertextBlob": seal(k, req.EncryptionContext, dataKey)}, nil
	case "Encrypt":
		k, err := s.resolve(req.KeyId, region)
		if err != nil {
			return nil, err
		}
		if err := usable(k); err != nil {
			return nil, err
		}
		return map[string]any{"KeyId": k.arn(), "CiphertextBlob": seal(k, req.EncryptionContext, req.Plaintext), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
	}
	return nil, &apiError{Code: "UnknownOperationException", Message: "fakekms does not implement " + op}
}

// writeError writes e as KMS's JSON 1.1 error body.
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

// cutBody announces a 1000-byte body, sends a few bytes and closes the
// connection.
func cutBody(w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 1000\r\n\r\n{\"Plaintext\":")
	buf.Flush()
}
