package fakekms

import (
	"net/http"
	"time"
)

// Call is what a test sees of one request, for faults and counting.
type Call struct {
	Operation  string // "Decrypt", "Encrypt", …
	KeyID      string // the KeyId parameter, if any
	Ciphertext []byte
	Context    map[string]string
	// Region is the region the request was signed for.
	Region string
	// AccessKeyID signed the request, and SessionToken came with it
	// (temporary credentials): which credentials the client used.
	AccessKeyID, SessionToken string
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
	// Omit removes these fields ("Plaintext", "KeyId", …) from a
	// successful response, as a broken KMS or proxy might.
	Omit []string
	// Body, when set, is answered as is, with HTTP 200, instead of the
	// operation's response.
	Body string
	// CutBody answers HTTP 200 announcing a longer body than it sends,
	// then closes the connection: the client reads a truncated body.
	CutBody bool
}

// FaultFunc decides, per call, whether to inject a Fault; nil means none.
type FaultFunc func(Call) *Fault

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

// begin counts a call and asks the FaultFunc about it; it returns the
// fault and the hold channel (nil when not holding).
func (s *Server) begin(op string, req request, r *http.Request) (*Fault, chan struct{}) {
	akid, region := signingScope(r.Header.Get("Authorization"))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	n := op + "\x00" + string(req.CiphertextBlob)
	s.counts[n]++
	var fault *Fault
	if s.fault != nil {
		fault = s.fault(Call{Operation: op, KeyID: req.KeyId, Ciphertext: req.CiphertextBlob, Context: req.EncryptionContext,
			Region: region, AccessKeyID: akid, SessionToken: r.Header.Get("X-Amz-Security-Token"), DryRun: req.DryRun, N: s.counts[n]})
	}
	return fault, s.hold
}

// end ends a call that begin counted as in flight.
func (s *Server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
}
