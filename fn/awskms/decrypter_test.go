package awskms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
)

const (
	keyA = "11111111-1111-1111-1111-111111111111"
	keyB = "22222222-2222-2222-2222-222222222222"
	// canary is a plaintext that must never appear in an error.
	canary = "CANARY-d3cr7pt-PLAINTEXT"
)

func setup(t *testing.T) (*fakekms.Server, *Client) {
	t.Helper()
	fake := kmstest.Start(t, kmstest.NewKey(keyA, "alias/a"), kmstest.NewKey(keyB, "alias/b"))
	return fake, New(Options{ClientOptions: []func(*kms.Options){awstest.FastRetries}})
}

func decryptOne(t *testing.T, d *Client, r Request) ([]byte, error) {
	t.Helper()
	res := d.DecryptAll(context.Background(), []Request{r})
	if len(res) != 1 {
		t.Fatalf("got %d results, want 1", len(res))
	}
	if res[0].Err != nil && strings.Contains(res[0].Err.Error(), canary) {
		t.Fatalf("error contains the plaintext: %v", res[0].Err)
	}
	return res[0].Plaintext, res[0].Err
}

func TestDecryptSucceeds(t *testing.T) {
	ctx := map[string]string{"app": "myproject"}
	tests := []struct {
		name   string
		target Target
	}{
		{"no key pinned", Target{Context: ctx}},
		{"key id", Target{KeyID: keyA, Context: ctx}},
		{"key ARN", Target{KeyID: fakekms.ARN(keyA), Context: ctx}},
		{"alias", Target{KeyID: "alias/a", Context: ctx}},
		{"alias ARN", Target{KeyID: fakekms.AliasARN("alias/a"), Context: ctx}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, d := setup(t)
			blob := fake.Encrypt(keyA, ctx, []byte(canary))
			got, err := decryptOne(t, d, Request{Blob: blob, Target: tc.target})
			if err != nil {
				t.Fatalf("DecryptAll: %v", err)
			}
			if string(got) != canary {
				t.Errorf("plaintext = %q, want the canary", got)
			}
		})
	}
}

func TestDecryptErrors(t *testing.T) {
	ctx := map[string]string{"app": "myproject"}
	always := func(code string, status int) func(*fakekms.Server) {
		return func(f *fakekms.Server) {
			f.SetFault(func(fakekms.Call) *fakekms.Fault {
				return &fakekms.Fault{Code: code, Status: status, Message: "injected"}
			})
		}
	}
	tests := []struct {
		name      string
		prepare   func(*fakekms.Server)
		target    Target
		code      string
		wantCalls int
		contains  []string
	}{
		{name: "wrong context", target: Target{Context: map[string]string{"app": "other"}},
			code: "InvalidCiphertextException", wantCalls: 1, contains: []string{`kms.encryptionContext: {"app":"other"}`, "re-encrypt"}},
		{name: "missing context", target: Target{},
			code: "InvalidCiphertextException", wantCalls: 1, contains: []string{"kms.encryptionContext: none"}},
		{name: "other key pinned", target: Target{KeyID: "alias/b", Context: ctx},
			code: "IncorrectKeyException", wantCalls: 1, contains: []string{`kms.keyId "alias/b"`}},
		{name: "access denied", prepare: always("AccessDeniedException", 400), target: Target{KeyID: "alias/a", Context: ctx},
			code: "AccessDeniedException", wantCalls: 1, contains: []string{"kms:Decrypt on key alias/a in region eu-west-1", "grant"}},
		{name: "disabled key", prepare: func(f *fakekms.Server) { f.SetKeyState(keyA, fakekms.Disabled) }, target: Target{Context: ctx},
			code: "DisabledException", wantCalls: 1, contains: []string{"disabled", "enable-key"}},
		{name: "pending deletion", prepare: func(f *fakekms.Server) { f.SetKeyState(keyA, fakekms.PendingDeletion) }, target: Target{Context: ctx},
			code: "KMSInvalidStateException", wantCalls: 1, contains: []string{"cancel-key-deletion"}},
		{name: "key not found", target: Target{KeyID: "alias/missing", Context: ctx},
			code: "NotFoundException", wantCalls: 1, contains: []string{"alias/missing was not found in region eu-west-1"}},
		{name: "throttled past retries", prepare: always("ThrottlingException", 400), target: Target{Context: ctx},
			code: "ThrottlingException", wantCalls: 3, contains: []string{"after 3 attempts", "KMSGEN_CONCURRENCY"}},
		{name: "internal error past retries", prepare: always("KMSInternalException", 500), target: Target{Context: ctx},
			code: "KMSInternalException", wantCalls: 3, contains: []string{"unavailable after 3 attempts"}},
		{name: "credentials rejected", prepare: always("UnrecognizedClientException", 400), target: Target{Context: ctx},
			code: "UnrecognizedClientException", wantCalls: 1, contains: []string{"rejected the AWS credentials"}},
		{name: "response names another key",
			prepare: func(f *fakekms.Server) {
				f.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{ResponseKeyID: fakekms.ARN(keyB)} })
			},
			target: Target{KeyID: fakekms.ARN(keyA), Context: ctx},
			code:   CodeKeyMismatch, wantCalls: 1, contains: []string{"pins " + fakekms.ARN(keyA), "discarded"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, d := setup(t)
			blob := fake.Encrypt(keyA, ctx, []byte(canary))
			if tc.prepare != nil {
				tc.prepare(fake)
			}
			got, err := decryptOne(t, d, Request{Blob: blob, Target: tc.target})
			assertError(t, err, tc.code, tc.contains...)
			if got != nil {
				t.Errorf("plaintext returned with an error")
			}
			if n := fake.Calls("Decrypt"); n != tc.wantCalls {
				t.Errorf("Decrypt calls = %d, want %d", n, tc.wantCalls)
			}
		})
	}
}

func assertError(t *testing.T, err error, code string, contains ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *awskms.Error", err, err)
	}
	if e.Code != code {
		t.Errorf("code = %q, want %q (error: %v)", e.Code, code, err)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans several lines: %q", err)
	}
}

func TestThrottledThenSucceeds(t *testing.T) {
	fake, d := setup(t)
	blob := fake.Encrypt(keyA, nil, []byte(canary))
	fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
		if c.N <= 2 {
			return &fakekms.Fault{Code: "ThrottlingException", Message: "Rate exceeded"}
		}
		return nil
	})
	got, err := decryptOne(t, d, Request{Blob: blob})
	if err != nil {
		t.Fatalf("DecryptAll: %v", err)
	}
	if string(got) != canary {
		t.Errorf("plaintext = %q, want the canary", got)
	}
	if n := fake.Calls("Decrypt"); n != 3 {
		t.Errorf("Decrypt calls = %d, want 3 (two throttled, one answered)", n)
	}
}

func TestRegion(t *testing.T) {
	otherARN := "arn:aws:kms:ap-south-1:111122223333:key/" + keyA
	tests := []struct {
		name       string
		envRegion  string
		target     Target
		wantRegion string
	}{
		{"from the environment", "eu-west-1", Target{KeyID: keyA}, "eu-west-1"},
		{"from a key ARN", "eu-west-1", Target{KeyID: otherARN}, "ap-south-1"},
		{"from an alias ARN without environment", "", Target{KeyID: "arn:aws:kms:us-east-2:111122223333:alias/a"}, "us-east-2"},
		{"kms.region wins", "eu-west-1", Target{KeyID: otherARN, Region: "ca-central-1"}, "ca-central-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := kmstest.Start(t, kmstest.NewKey(keyA))
			awstest.Isolate(t, fake.URL, tc.envRegion) // this case's region
			var signed []string
			fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
				signed = append(signed, c.Region)
				return nil
			})
			d := New(Options{})
			// The fake answers whatever the region; its KeyId check needs the
			// fake's own ARN, so pin nothing KMS-side beyond what it knows.
			_, _ = decryptOne(t, d, Request{Blob: fake.Encrypt(keyA, nil, []byte(canary)), Target: tc.target})
			if diff := cmp.Diff([]string{tc.wantRegion}, signed); diff != "" {
				t.Errorf("signing regions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoRegion(t *testing.T) {
	fake, _ := setup(t)
	awstest.Isolate(t, fake.URL, "")
	d := New(Options{})
	_, err := decryptOne(t, d, Request{Blob: fake.Encrypt(keyA, nil, []byte(canary)), Target: Target{KeyID: "alias/a"}})
	assertError(t, err, CodeNoRegion, "set kms.region", "AWS_REGION")
	if n := fake.Calls("Decrypt"); n != 0 {
		t.Errorf("Decrypt calls = %d, want 0", n)
	}
}

func TestNoCredentials(t *testing.T) {
	fake, _ := setup(t)
	awstest.Clear(t)
	t.Setenv("AWS_REGION", fakekms.Region)
	t.Setenv("AWS_ENDPOINT_URL", fake.URL)
	d := New(Options{})
	_, err := decryptOne(t, d, Request{Blob: fake.Encrypt(keyA, nil, []byte(canary))})
	assertError(t, err, CodeNoCredentials, "no usable AWS credentials", "AWS_PROFILE")
	if n := fake.Calls("Decrypt"); n != 0 {
		t.Errorf("Decrypt calls = %d, want 0", n)
	}
}

func TestEndpointUnreachable(t *testing.T) {
	fake, _ := setup(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	d := New(Options{ClientOptions: []func(*kms.Options){awstest.FastRetries}})
	_, err = decryptOne(t, d, Request{Blob: fake.Encrypt(keyA, nil, []byte(canary)), Target: Target{Endpoint: closed}})
	assertError(t, err, CodeUnreachable, "could not reach "+closed, "kms.endpoint")
}

func TestTimeout(t *testing.T) {
	fake, _ := setup(t)
	fake.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Delay: 10 * time.Second} })
	d := New(Options{CallTimeout: 200 * time.Millisecond, ClientOptions: []func(*kms.Options){awstest.FastRetries}})
	_, err := decryptOne(t, d, Request{Blob: fake.Encrypt(keyA, nil, []byte(canary))})
	assertError(t, err, CodeTimeout, "within 200ms", "KMSGEN_TIMEOUT")
}

func TestDeduplicates(t *testing.T) {
	fake, d := setup(t)
	ctx := map[string]string{"app": "x"}
	blob := fake.Encrypt(keyA, ctx, []byte("one"))
	other := fake.Encrypt(keyA, nil, []byte("two"))
	reqs := []Request{
		{Blob: blob, Target: Target{Context: ctx}},
		{Blob: other},
		{Blob: append([]byte(nil), blob...), Target: Target{Context: map[string]string{"app": "x"}}},
		{Blob: other},
		{Blob: blob, Target: Target{Context: ctx, KeyID: "alias/a"}}, // another KeyId: another call
	}
	res := d.DecryptAll(context.Background(), reqs)
	var got []string
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("DecryptAll: %v", r.Err)
		}
		got = append(got, string(r.Plaintext))
	}
	if diff := cmp.Diff([]string{"one", "two", "one", "two", "one"}, got); diff != "" {
		t.Errorf("plaintexts (-want +got):\n%s", diff)
	}
	if n := fake.Calls("Decrypt"); n != 3 {
		t.Errorf("Decrypt calls = %d, want 3", n)
	}
}

func TestConcurrencyBound(t *testing.T) {
	fake, _ := setup(t)
	const limit, total = 3, 12
	d := New(Options{Concurrency: limit})
	var reqs []Request
	for i := range total {
		reqs = append(reqs, Request{Blob: fake.Encrypt(keyA, nil, fmt.Appendf(nil, "value-%d", i))})
	}
	fake.Hold()
	done := make(chan []Result)
	go func() { done <- d.DecryptAll(context.Background(), reqs) }()
	waitFor(t, func() bool { return fake.InFlight() == limit })
	time.Sleep(100 * time.Millisecond) // give an unbounded client the chance to send more
	if n := fake.InFlight(); n != limit {
		t.Errorf("calls in flight while held = %d, want %d", n, limit)
	}
	fake.Release()
	for i, r := range <-done {
		if r.Err != nil || string(r.Plaintext) != fmt.Sprintf("value-%d", i) {
			t.Errorf("result %d = %q, %v", i, r.Plaintext, r.Err)
		}
	}
	if n := fake.MaxInFlight(); n != limit {
		t.Errorf("max calls in flight = %d, want %d", n, limit)
	}
	if n := fake.Calls("Decrypt"); n != total {
		t.Errorf("Decrypt calls = %d, want %d", n, total)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConfigLoadedOnlyWhenNeeded(t *testing.T) {
	fake, _ := setup(t)
	loads := 0
	d := New(Options{LoadConfig: func(context.Context) (aws.Config, error) {
		loads++
		return aws.Config{Region: fakekms.Region, BaseEndpoint: aws.String(fake.URL),
			Credentials: aws.AnonymousCredentials{}}, nil
	}})
	if res := d.DecryptAll(context.Background(), nil); len(res) != 0 || loads != 0 {
		t.Fatalf("empty batch: %d results, %d config loads; want 0 and 0", len(res), loads)
	}
	blob := fake.Encrypt(keyA, nil, []byte("x"))
	d.DecryptAll(context.Background(), []Request{{Blob: blob}, {Blob: blob, Target: Target{Region: "us-east-1"}}})
	d.DecryptAll(context.Background(), []Request{{Blob: blob}})
	if loads != 1 {
		t.Errorf("config loads = %d, want 1", loads)
	}
	if n := len(d.clients); n != 2 {
		t.Errorf("clients = %d, want 2 (one per region)", n)
	}
}

// TestCredentialSourceUnreachable: configured credentials whose service
// does not answer (here a container credentials endpoint on a closed
// port) are reported as unreachable, not as missing.
func TestCredentialSourceUnreachable(t *testing.T) {
	fake, _ := setup(t)
	awstest.Clear(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/creds"
	l.Close()
	t.Setenv("AWS_REGION", fakekms.Region)
	t.Setenv("AWS_ENDPOINT_URL_KMS", fake.URL)
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", closed)
	_, err = decryptOne(t, New(Options{}), Request{Blob: fake.Encrypt(keyA, nil, []byte(canary))})
	assertError(t, err, CodeNoCredentials, "the credential source could not be reached", "AWS_ENDPOINT_URL_STS")
}
