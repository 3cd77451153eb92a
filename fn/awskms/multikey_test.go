package awskms

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
)

const (
	regionA = "eu-west-1" // the tests' configured region (kmstest)
	regionB = "us-east-1"
	keyC    = "33333333-3333-3333-3333-333333333333"
)

// multiSetup starts a fake KMS with key A in regionA and key B in regionB
// (each answering only requests signed for its region), and a copy of the
// canary under each, bound to ctx. It records the key and region of every
// Decrypt call.
type multiWorld struct {
	fake       *fakekms.Server
	d          *Client
	arnA, arnB string
	keys       []Wrapped // A then B

	mu    sync.Mutex
	calls []string // "KEYARN@REGION" of each Decrypt call
}

var multiCtx = map[string]string{"app": "dr"}

func multiSetup(t *testing.T, opts Options) *multiWorld {
	t.Helper()
	w := &multiWorld{fake: kmstest.Start(t)}
	w.arnA = w.fake.CreateKeyIn(regionA, keyA, "alias/a")
	w.arnB = w.fake.CreateKeyIn(regionB, keyB, "alias/b")
	w.keys = []Wrapped{
		{KeyARN: w.arnA, Blob: w.fake.Encrypt(w.arnA, multiCtx, []byte(canary))},
		{KeyARN: w.arnB, Blob: w.fake.Encrypt(w.arnB, multiCtx, []byte(canary))},
	}
	opts.ClientOptions = append(opts.ClientOptions, awstest.FastRetries)
	w.d = New(opts)
	return w
}

// fault installs f for Decrypt calls, recording each call.
func (w *multiWorld) fault(f func(c fakekms.Call) *fakekms.Fault) {
	w.fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
		if c.Operation != "Decrypt" {
			return nil
		}
		w.mu.Lock()
		w.calls = append(w.calls, c.KeyID+"@"+c.Region)
		w.mu.Unlock()
		if f == nil {
			return nil
		}
		return f(c)
	})
}

// on returns a fault func that fails calls for keyARN with code.
func on(keyARN, code string) func(fakekms.Call) *fakekms.Fault {
	return func(c fakekms.Call) *fakekms.Fault {
		if c.KeyID == keyARN {
			return &fakekms.Fault{Code: code, Message: "injected"}
		}
		return nil
	}
}

func TestMultiKeyFallback(t *testing.T) {
	type world = *multiWorld
	tests := []struct {
		name    string
		opts    Options
		prepare func(w world)
		target  func(w world) Target
		keys    func(w world) []Wrapped
		// wantCalls are the Decrypt calls, as "A" or "B" (key) and region.
		wantCalls func(w world) []string
		wantCode  string   // "" means success
		contains  []string // in the error
	}{
		{name: "the key in the configured region first",
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA} }},
		{name: "the configured region first, whatever the header order",
			keys:      func(w world) []Wrapped { return []Wrapped{w.keys[1], w.keys[0]} },
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA} }},
		{name: "kms.region chooses the first key",
			target:    func(w world) Target { return Target{Context: multiCtx, Region: regionB} },
			wantCalls: func(w world) []string { return []string{w.arnB + "@" + regionB} }},
		{name: "no key in the configured region: header order",
			target:    func(w world) Target { return Target{Context: multiCtx, Region: "ap-south-1"} },
			keys:      func(w world) []Wrapped { return []Wrapped{w.keys[1], w.keys[0]} },
			wantCalls: func(w world) []string { return []string{w.arnB + "@" + regionB} }},
		{name: "access denied on A: B",
			prepare:   func(w world) { w.fault(on(w.arnA, "AccessDeniedException")) },
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA, w.arnB + "@" + regionB} }},
		{name: "A disabled: B",
			prepare:   func(w world) { w.fake.SetKeyState(keyA, fakekms.Disabled) },
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA, w.arnB + "@" + regionB} }},
		{name: "A pending deletion: B",
			prepare:   func(w world) { w.fake.SetKeyState(keyA, fakekms.PendingDeletion) },
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA, w.arnB + "@" + regionB} }},
		{name: "A not found: B",
			keys: func(w world) []Wrapped {
				return []Wrapped{{KeyARN: fakekms.RegionalARN(regionA, keyC), Blob: w.keys[0].Blob}, w.keys[1]}
			},
			wantCalls: func(w world) []string {
				return []string{fakekms.RegionalARN(regionA, keyC) + "@" + regionA, w.arnB + "@" + regionB}
			}},
		{name: "A unavailable: B",
			prepare:   func(w world) { w.fault(on(w.arnA, "KeyUnavailableException")) },
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA, w.arnB + "@" + regionB} }},
		{name: "A's region silent past the call timeout: B",
			opts: Options{CallTimeout: 300 * time.Millisecond},
			prepare: func(w world) {
				w.fault(func(c fakekms.Call) *fakekms.Fault {
					if c.Region == regionA {
						return &fakekms.Fault{Delay: time.Minute}
					}
					return nil
				})
			},
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA, w.arnB + "@" + regionB} }},
		{name: "InvalidCiphertext on A: no fallback",
			prepare:   func(w world) { w.fault(on(w.arnA, "InvalidCiphertextException")) },
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA} },
			wantCode:  "InvalidCiphertextException", contains: []string{"key arn:aws:kms:eu-west-1:111122223333:key/" + keyA + " (not trying the envelope's other keys"}},
		{name: "the wrong context: no fallback",
			target:    func(w world) Target { return Target{Context: map[string]string{"app": "other"}} },
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA} },
			wantCode:  "InvalidCiphertextException"},
		{name: "IncorrectKey on A: no fallback",
			prepare:   func(w world) { w.fault(on(w.arnA, "IncorrectKeyException")) },
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA} },
			wantCode:  "IncorrectKeyException"},
		{name: "A's copy attributed to B: no fallback",
			keys: func(w world) []Wrapped {
				return []Wrapped{{KeyARN: w.arnB, Blob: w.keys[0].Blob}, {KeyARN: w.arnA, Blob: w.keys[1].Blob}}
			},
			target:    func(w world) Target { return Target{Context: multiCtx, Region: regionB} },
			wantCalls: func(w world) []string { return []string{w.arnB + "@" + regionB} },
			wantCode:  "IncorrectKeyException"},
		{name: "KMS answers with another key: no fallback",
			prepare: func(w world) {
				w.fault(func(c fakekms.Call) *fakekms.Fault { return &fakekms.Fault{ResponseKeyID: w.arnB} })
			},
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA} },
			wantCode:  CodeKeyMismatch},
		{name: "every key fails: each listed",
			prepare: func(w world) {
				w.fault(on(w.arnA, "AccessDeniedException"))
				w.fake.SetKeyState(keyB, fakekms.Disabled)
			},
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA, w.arnB + "@" + regionB} },
			wantCode:  CodeNoUsableKey,
			contains: []string{"none of the envelope's 2 keys could be used",
				"access denied: kms:Decrypt on key " + "arn:aws:kms:eu-west-1:111122223333:key/" + keyA + " in region eu-west-1",
				"arn:aws:kms:us-east-1:111122223333:key/" + keyB + ": key arn:aws:kms:us-east-1:111122223333:key/" + keyB + " in region us-east-1 is disabled",
				"grant the identity running kmsgen kms:Decrypt on one of them"}},
		{name: "a pinned key ARN not in the envelope: no call",
			target:    func(w world) Target { return Target{KeyID: fakekms.RegionalARN(regionA, keyC), Context: multiCtx} },
			wantCalls: func(w world) []string { return nil },
			wantCode:  CodeKeyMismatch, contains: []string{"not wrapped under the key kms.keyId pins", "--add-key-id"}},
		{name: "a pinned key ARN in the envelope",
			target: func(w world) Target {
				return Target{KeyID: "arn:aws:kms:us-east-1:111122223333:key/" + keyB, Context: multiCtx}
			},
			wantCalls: func(w world) []string { return []string{w.arnA + "@" + regionA} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := multiSetup(t, tc.opts)
			w.fault(nil)
			if tc.prepare != nil {
				tc.prepare(w)
			}
			target := Target{Context: multiCtx}
			if tc.target != nil {
				target = tc.target(w)
			}
			keys := w.keys
			if tc.keys != nil {
				keys = tc.keys(w)
			}
			got, err := decryptOne(t, w.d, Request{Target: target, Keys: keys})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if string(got) != canary {
					t.Errorf("plaintext = %q, want the canary", got)
				}
			} else {
				assertError(t, err, tc.wantCode, tc.contains...)
				if got != nil {
					t.Error("plaintext returned with an error")
				}
			}
			if diff := cmp.Diff(tc.wantCalls(w), w.calls); diff != "" {
				t.Errorf("Decrypt calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMultiKeyOneCallPerDistinctEnvelope: identical multi-key requests
// share one decryption, as identical direct ciphertexts do.
func TestMultiKeyOneCallPerDistinctEnvelope(t *testing.T) {
	w := multiSetup(t, Options{})
	w.fault(nil)
	other := []Wrapped{w.keys[0], {KeyARN: w.arnB, Blob: w.fake.Encrypt(w.arnB, multiCtx, []byte(canary+"2"))}}
	reqs := []Request{
		{Target: Target{Context: multiCtx}, Keys: w.keys},
		{Target: Target{Context: multiCtx}, Keys: slices.Clone(w.keys)},
		{Target: Target{Context: multiCtx}, Keys: other}, // another envelope
		{Target: Target{Context: multiCtx}, Keys: w.keys},
	}
	res := w.d.DecryptAll(context.Background(), reqs)
	for i, r := range res {
		if r.Err != nil || string(r.Plaintext) != canary {
			t.Errorf("request %d: %q, %v", i, r.Plaintext, r.Err)
		}
	}
	if n := w.fake.Calls("Decrypt"); n != 2 {
		t.Errorf("Decrypt calls = %d, want 2 (one per distinct envelope)", n)
	}
}

// TestMultiKeyCanDecrypt: the dry run falls back as decryption does.
func TestMultiKeyCanDecrypt(t *testing.T) {
	w := multiSetup(t, Options{})
	w.fault(on(w.arnA, "AccessDeniedException"))
	errs := w.d.CanDecryptAll(context.Background(), []Request{{Target: Target{Context: multiCtx}, Keys: w.keys}})
	if errs[0] != nil {
		t.Errorf("CanDecryptAll: %v, want allowed through B", errs[0])
	}
	w.fault(func(c fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Code: "AccessDeniedException"} })
	errs = w.d.CanDecryptAll(context.Background(), []Request{{Target: Target{Context: multiCtx}, Keys: w.keys}})
	assertError(t, errs[0], CodeNoUsableKey, w.arnA, w.arnB)
}

// TestEncryptKeyAndGenerateDataKeyARN: the key ARN KMS reports, an alias
// resolved, in the key's region.
func TestEncryptKeyAndGenerateDataKeyARN(t *testing.T) {
	w := multiSetup(t, Options{})
	_, arn, err := w.d.EncryptKey(context.Background(), Target{KeyID: "alias/a"}, []byte(canary))
	if err != nil || arn != w.arnA {
		t.Errorf("EncryptKey alias/a: %q, %v; want %s", arn, err, w.arnA)
	}
	_, _, arn, err = w.d.GenerateDataKeyARN(context.Background(), Target{KeyID: w.arnB})
	if err != nil || arn != w.arnB {
		t.Errorf("GenerateDataKeyARN B: %q, %v; want %s", arn, err, w.arnB)
	}
	w.fake.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Omit: []string{"KeyId"}} })
	_, _, err = w.d.EncryptKey(context.Background(), Target{KeyID: w.arnA}, []byte(canary))
	assertError(t, err, CodeMalformed, "no key ARN in KeyId")
	if err != nil && strings.Contains(err.Error(), canary) {
		t.Error("the error holds the plaintext")
	}
}
