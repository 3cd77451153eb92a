package fakekms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
)

const (
	keyA = "11111111-1111-1111-1111-111111111111"
	keyB = "22222222-2222-2222-2222-222222222222"
)

var (
	ctxApp   = map[string]string{"app": "myproject", "env": "prod"}
	ctxOther = map[string]string{"app": "other"}
	secret   = []byte("s3cr3t plaintext")
)

// start starts a fake KMS with keyA (alias/a) and keyB (alias/b), isolates
// the test's AWS environment and returns a client for it.
func start(t *testing.T, opts ...func(*kms.Options)) (*fakekms.Server, *kms.Client) {
	t.Helper()
	srv := fakekms.New(t)
	awstest.Isolate(t, srv.URL, fakekms.Region)
	srv.CreateKey(keyA, "alias/a")
	srv.CreateKey(keyB, "alias/b")
	return srv, client(srv.URL, fakekms.Region, opts...)
}

// client returns a KMS client for url that signs for region.
func client(url, region string, opts ...func(*kms.Options)) *kms.Client {
	return kms.NewFromConfig(aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
	}, opts...)
}

// code returns err's API error code, "" for nil or a non-API error.
func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// status returns the HTTP status of err's response, 0 if none.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func encrypt(t *testing.T, c *kms.Client, keyID string, ec map[string]string, plaintext []byte) []byte {
	t.Helper()
	out, err := c.Encrypt(context.Background(), &kms.EncryptInput{KeyId: aws.String(keyID), EncryptionContext: ec, Plaintext: plaintext})
	if err != nil {
		t.Fatalf("Encrypt(%s): %v", keyID, err)
	}
	return out.CiphertextBlob
}

func decrypt(c *kms.Client, blob []byte, keyID string, ec map[string]string) (*kms.DecryptOutput, error) {
	in := &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec}
	if keyID != "" {
		in.KeyId = aws.String(keyID)
	}
	return c.Decrypt(context.Background(), in)
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		ec   map[string]string
	}{
		{"no context", nil},
		{"context", ctxApp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := start(t)
			enc, err := c.Encrypt(context.Background(), &kms.EncryptInput{KeyId: aws.String(keyA), EncryptionContext: tc.ec, Plaintext: secret})
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if got, want := aws.ToString(enc.KeyId), fakekms.ARN(keyA); got != want {
				t.Errorf("Encrypt KeyId = %q, want %q", got, want)
			}
			if bytes.Contains(enc.CiphertextBlob, secret) {
				t.Errorf("ciphertext contains the plaintext")
			}
			dec, err := decrypt(c, enc.CiphertextBlob, "", tc.ec)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if diff := cmp.Diff(secret, dec.Plaintext); diff != "" {
				t.Errorf("plaintext (-want +got):\n%s", diff)
			}
			if got, want := aws.ToString(dec.KeyId), fakekms.ARN(keyA); got != want {
				t.Errorf("Decrypt KeyId = %q, want %q", got, want)
			}
			if dec.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
				t.Errorf("EncryptionAlgorithm = %q, want SYMMETRIC_DEFAULT", dec.EncryptionAlgorithm)
			}
		})
	}
}

func TestKeyResolution(t *testing.T) {
	refs := []struct{ name, id string }{
		{"key ID", keyA},
		{"key ARN", fakekms.ARN(keyA)},
		{"alias name", "alias/a"},
		{"alias ARN", fakekms.AliasARN("alias/a")},
	}
	for _, enc := range refs {
		t.Run("encrypt with "+enc.name, func(t *testing.T) {
			_, c := start(t)
			out, err := c.Encrypt(context.Background(), &kms.EncryptInput{KeyId: aws.String(enc.id), EncryptionContext: ctxApp, Plaintext: secret})
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if got, want := aws.ToString(out.KeyId), fakekms.ARN(keyA); got != want {
				t.Errorf("Encrypt KeyId = %q, want %q", got, want)
			}
			for _, pin := range refs {
				dec, err := decrypt(c, out.CiphertextBlob, pin.id, ctxApp)
				if err != nil {
					t.Errorf("Decrypt pinned with %s: %v", pin.name, err)
					continue
				}
				if diff := cmp.Diff(secret, dec.Plaintext); diff != "" {
					t.Errorf("Decrypt pinned with %s: plaintext (-want +got):\n%s", pin.name, diff)
				}
				if got, want := aws.ToString(dec.KeyId), fakekms.ARN(keyA); got != want {
					t.Errorf("Decrypt pinned with %s: KeyId = %q, want %q", pin.name, got, want)
				}
			}
		})
	}
}

func TestDecryptErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*fakekms.Server)
		blob  []byte // nil: secret encrypted under keyA with ctxApp
		keyID string
		ec    map[string]string
		want  string
	}{
		{name: "other context", keyID: keyA, ec: ctxOther, want: "InvalidCiphertextException"},
		{name: "context missing", ec: nil, want: "InvalidCiphertextException"},
		{name: "context extra entry", ec: map[string]string{"app": "myproject", "env": "prod", "x": "y"}, want: "InvalidCiphertextException"},
		{name: "not made by the fake", blob: []byte("AQICAHh-not-a-kms-ciphertext"), ec: ctxApp, want: "InvalidCiphertextException"},
		{name: "truncated", blob: []byte("FAKEKMS1" + keyA + "|short"), ec: ctxApp, want: "InvalidCiphertextException"},
		{name: "pinned to another key", keyID: keyB, ec: ctxApp, want: "IncorrectKeyException"},
		{name: "pinned to another key's alias", keyID: "alias/b", ec: ctxApp, want: "IncorrectKeyException"},
		{name: "pinned to an unknown key", keyID: "33333333-3333-3333-3333-333333333333", ec: ctxApp, want: "NotFoundException"},
		{name: "pinned to an unknown alias", keyID: "alias/none", ec: ctxApp, want: "NotFoundException"},
		{name: "key disabled", setup: func(s *fakekms.Server) { s.SetKeyState(keyA, fakekms.Disabled) }, ec: ctxApp, want: "DisabledException"},
		{name: "key pending deletion", setup: func(s *fakekms.Server) { s.SetKeyState(keyA, fakekms.PendingDeletion) }, ec: ctxApp, want: "KMSInvalidStateException"},
		{name: "other key disabled", setup: func(s *fakekms.Server) { s.SetKeyState(keyB, fakekms.Disabled) }, ec: ctxApp},
		{name: "key enabled again", setup: func(s *fakekms.Server) {
			s.SetKeyState(keyA, fakekms.Disabled)
			s.SetKeyState(keyA, fakekms.Enabled)
		}, ec: ctxApp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := start(t)
			blob := tc.blob
			if blob == nil {
				blob = srv.Encrypt(keyA, ctxApp, secret)
			}
			if tc.setup != nil {
				tc.setup(srv)
			}
			out, err := decrypt(c, blob, tc.keyID, tc.ec)
			if got := code(err); got != tc.want {
				t.Fatalf("Decrypt error code = %q, want %q (err: %v)", got, tc.want, err)
			}
			if tc.want != "" {
				if out != nil {
					t.Errorf("Decrypt returned output %+v with an error", out)
				}
				return
			}
			if diff := cmp.Diff(secret, out.Plaintext); diff != "" {
				t.Errorf("plaintext (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncryptErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state string
		keyID string
		want  string
	}{
		{name: "disabled", state: fakekms.Disabled, keyID: keyA, want: "DisabledException"},
		{name: "disabled, by alias", state: fakekms.Disabled, keyID: "alias/a", want: "DisabledException"},
		{name: "pending deletion", state: fakekms.PendingDeletion, keyID: keyA, want: "KMSInvalidStateException"},
		{name: "unknown key", keyID: "33333333-3333-3333-3333-333333333333", want: "NotFoundException"},
		{name: "unknown alias", keyID: "alias/none", want: "NotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := start(t)
			if tc.state != "" {
				srv.SetKeyState(keyA, tc.state)
			}
			out, err := c.Encrypt(context.Background(), &kms.EncryptInput{KeyId: aws.String(tc.keyID), EncryptionContext: ctxApp, Plaintext: secret})
			if got := code(err); got != tc.want {
				t.Fatalf("Encrypt error code = %q, want %q (err: %v)", got, tc.want, err)
			}
			if out != nil {
				t.Errorf("Encrypt returned output %+v with an error", out)
			}
		})
	}
}

func TestDecryptDryRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		ec   map[string]string
		want string
	}{
		{"would succeed", ctxApp, "DryRunOperationException"},
		{"would fail", ctxOther, "InvalidCiphertextException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := start(t)
			out, err := c.Decrypt(context.Background(), &kms.DecryptInput{
				CiphertextBlob:    srv.Encrypt(keyA, ctxApp, secret),
				EncryptionContext: tc.ec,
				KeyId:             aws.String(keyA),
				DryRun:            aws.Bool(true),
			})
			if got := code(err); got != tc.want {
				t.Fatalf("Decrypt DryRun error code = %q, want %q (err: %v)", got, tc.want, err)
			}
			if out != nil {
				t.Errorf("Decrypt DryRun returned output (plaintext %q)", out.Plaintext)
			}
		})
	}
}

func TestReEncrypt(t *testing.T) {
	srv, c := start(t)
	blob := srv.Encrypt(keyA, ctxApp, secret)
	out, err := c.ReEncrypt(context.Background(), &kms.ReEncryptInput{
		CiphertextBlob:               blob,
		SourceKeyId:                  aws.String("alias/a"),
		SourceEncryptionContext:      ctxApp,
		DestinationKeyId:             aws.String("alias/b"),
		DestinationEncryptionContext: ctxOther,
	})
	if err != nil {
		t.Fatalf("ReEncrypt: %v", err)
	}
	if got, want := aws.ToString(out.KeyId), fakekms.ARN(keyB); got != want {
		t.Errorf("ReEncrypt KeyId = %q, want %q", got, want)
	}
	if bytes.Equal(out.CiphertextBlob, blob) {
		t.Fatalf("ReEncrypt returned the same ciphertext")
	}

	dec, err := decrypt(c, out.CiphertextBlob, keyB, ctxOther)
	if err != nil {
		t.Fatalf("Decrypt of the new ciphertext under keyB and the new context: %v", err)
	}
	if diff := cmp.Diff(secret, dec.Plaintext); diff != "" {
		t.Errorf("plaintext (-want +got):\n%s", diff)
	}
	if got, want := aws.ToString(dec.KeyId), fakekms.ARN(keyB); got != want {
		t.Errorf("Decrypt KeyId = %q, want %q", got, want)
	}

	for _, tc := range []struct {
		name  string
		keyID string
		ec    map[string]string
		want  string
	}{
		{"old context", "", ctxApp, "InvalidCiphertextException"},
		{"no context", "", nil, "InvalidCiphertextException"},
		{"pinned to the old key", keyA, ctxOther, "IncorrectKeyException"},
	} {
		_, err := decrypt(c, out.CiphertextBlob, tc.keyID, tc.ec)
		if got := code(err); got != tc.want {
			t.Errorf("Decrypt of the new ciphertext, %s: error code = %q, want %q (err: %v)", tc.name, got, tc.want, err)
		}
	}
}

func TestReEncryptErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		setup       func(*fakekms.Server)
		source      string
		sourceCtx   map[string]string
		destination string
		wantCode    string
	}{
		{name: "wrong source key", source: keyB, sourceCtx: ctxApp, destination: keyB, wantCode: "IncorrectKeyException"},
		{name: "wrong source context", source: keyA, sourceCtx: ctxOther, destination: keyB, wantCode: "InvalidCiphertextException"},
		{name: "unknown destination", source: keyA, sourceCtx: ctxApp, destination: "alias/none", wantCode: "NotFoundException"},
		{name: "disabled destination", setup: func(s *fakekms.Server) { s.SetKeyState(keyB, fakekms.Disabled) },
			source: keyA, sourceCtx: ctxApp, destination: keyB, wantCode: "DisabledException"},
		{name: "disabled source", setup: func(s *fakekms.Server) { s.SetKeyState(keyA, fakekms.Disabled) },
			source: keyA, sourceCtx: ctxApp, destination: keyB, wantCode: "DisabledException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := start(t)
			blob := srv.Encrypt(keyA, ctxApp, secret)
			if tc.setup != nil {
				tc.setup(srv)
			}
			out, err := c.ReEncrypt(context.Background(), &kms.ReEncryptInput{
				CiphertextBlob:          blob,
				SourceKeyId:             aws.String(tc.source),
				SourceEncryptionContext: tc.sourceCtx,
				DestinationKeyId:        aws.String(tc.destination),
			})
			if got := code(err); got != tc.wantCode {
				t.Fatalf("ReEncrypt error code = %q, want %q (err: %v)", got, tc.wantCode, err)
			}
			if out != nil {
				t.Errorf("ReEncrypt returned output %+v with an error", out)
			}
		})
	}
}

func TestGenerateDataKey(t *testing.T) {
	_, c := start(t)
	gen := func() *kms.GenerateDataKeyOutput {
		t.Helper()
		out, err := c.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String("alias/a"), KeySpec: types.DataKeySpecAes256, EncryptionContext: ctxApp})
		if err != nil {
			t.Fatalf("GenerateDataKey: %v", err)
		}
		return out
	}
	out := gen()
	if len(out.Plaintext) != 32 {
		t.Fatalf("data key is %d bytes, want 32", len(out.Plaintext))
	}
	if got, want := aws.ToString(out.KeyId), fakekms.ARN(keyA); got != want {
		t.Errorf("GenerateDataKey KeyId = %q, want %q", got, want)
	}
	dec, err := decrypt(c, out.CiphertextBlob, keyA, ctxApp)
	if err != nil {
		t.Fatalf("Decrypt of the data key: %v", err)
	}
	if diff := cmp.Diff(out.Plaintext, dec.Plaintext); diff != "" {
		t.Errorf("decrypted data key (-want +got):\n%s", diff)
	}
	if _, err := decrypt(c, out.CiphertextBlob, "", nil); code(err) != "InvalidCiphertextException" {
		t.Errorf("Decrypt of the data key without its context: error code = %q, want InvalidCiphertextException (err: %v)", code(err), err)
	}
	if again := gen(); bytes.Equal(again.Plaintext, out.Plaintext) {
		t.Errorf("two GenerateDataKey calls returned the same data key")
	}

	_, err = c.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(keyA), KeySpec: types.DataKeySpecAes128})
	if got := code(err); got != "ValidationException" {
		t.Errorf("GenerateDataKey AES_128: error code = %q, want ValidationException (err: %v)", got, err)
	}
}

// golden is Server.Encrypt(keyA, {"app": "golden"}, "golden plaintext"):
// golden files hold such ciphertexts, so the derivation must not change.
const golden = "RkFLRUtNUzExMTExMTExMS0xMTExLTExMTEtMTExMS0xMTExMTExMTExMTF8GPYaMwDExUlITLI8fuV4ptOr4o8AjeIYYedTfnI61JzdCQEOexMjoXhqVOo="

func TestServerEncryptFixture(t *testing.T) {
	srv, _ := start(t)
	first := srv.Encrypt(keyA, ctxApp, secret)
	for _, tc := range []struct {
		name     string
		keyID    string
		ec       map[string]string
		text     []byte
		wantSame bool
	}{
		{"same key, context and plaintext", keyA, ctxApp, secret, true},
		{"same key by alias", "alias/a", ctxApp, secret, true},
		{"same context in another map", keyA, map[string]string{"env": "prod", "app": "myproject"}, secret, true},
		{"other key", keyB, ctxApp, secret, false},
		{"other context", keyA, ctxOther, secret, false},
		{"other plaintext", keyA, ctxApp, []byte("other plaintext"), false},
	} {
		got := srv.Encrypt(tc.keyID, tc.ec, tc.text)
		if same := bytes.Equal(got, first); same != tc.wantSame {
			t.Errorf("%s: same ciphertext = %v, want %v", tc.name, same, tc.wantSame)
		}
	}

	// A Server started later, holding the same key IDs (no aliases), decrypts
	// both the fixture and the golden ciphertext.
	later := fakekms.New(t)
	later.CreateKey(keyA)
	c := client(later.URL, fakekms.Region)
	dec, err := decrypt(c, first, "", ctxApp)
	if err != nil {
		t.Fatalf("Decrypt on a later Server: %v", err)
	}
	if diff := cmp.Diff(secret, dec.Plaintext); diff != "" {
		t.Errorf("plaintext (-want +got):\n%s", diff)
	}

	goldenCtx := map[string]string{"app": "golden"}
	if got := base64.StdEncoding.EncodeToString(later.Encrypt(keyA, goldenCtx, []byte("golden plaintext"))); got != golden {
		t.Errorf("Encrypt of the golden plaintext = %s, want %s", got, golden)
	}
	blob, _ := base64.StdEncoding.DecodeString(golden)
	dec, err = decrypt(c, blob, keyA, goldenCtx)
	if err != nil {
		t.Fatalf("Decrypt of the golden ciphertext: %v", err)
	}
	if got := string(dec.Plaintext); got != "golden plaintext" {
		t.Errorf("golden plaintext = %q", got)
	}
}

func TestServerEncryptUnknownKeyPanics(t *testing.T) {
	srv, _ := start(t)
	defer func() {
		if recover() == nil {
			t.Errorf("Encrypt with an unknown key did not panic")
		}
	}()
	srv.Encrypt("alias/none", nil, secret)
}

func TestUnsignedRequest(t *testing.T) {
	for _, tc := range []struct {
		name, method, target, auth string
	}{
		{"no Authorization", http.MethodPost, "TrentService.Decrypt", ""},
		{"not SigV4", http.MethodPost, "TrentService.Decrypt", "Basic dXNlcjpwYXNz"},
		{"GET", http.MethodGet, "TrentService.Decrypt", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/kms/aws4_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := start(t)
			body := `{"CiphertextBlob":"` + base64.StdEncoding.EncodeToString(srv.Encrypt(keyA, nil, secret)) + `"}`
			req, err := http.NewRequestWithContext(context.Background(), tc.method, srv.URL, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", tc.target)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", resp.StatusCode)
			}
			if got, want := resp.Header.Get("X-Amzn-ErrorType"), "UnrecognizedClientException"; got != want {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, want)
			}
			if !strings.Contains(string(got), `"__type":"UnrecognizedClientException"`) {
				t.Errorf("body = %s, want __type UnrecognizedClientException", got)
			}
			if bytes.Contains(got, secret) {
				t.Errorf("body contains the plaintext: %s", got)
			}
			if n := srv.Calls("Decrypt"); n != 0 {
				t.Errorf("Calls(Decrypt) = %d, want 0", n)
			}
		})
	}
}

func TestFaultError(t *testing.T) {
	for _, tc := range []struct {
		name         string
		fault        fakekms.Fault
		wantStatus   int
		wantAttempts int
	}{
		{"throttled, retried", fakekms.Fault{Code: "ThrottlingException", Message: "slow down", Status: 400}, 400, 3},
		{"internal error, retried", fakekms.Fault{Code: "KMSInternalException", Message: "boom", Status: 500}, 500, 3},
		{"access denied, not retried", fakekms.Fault{Code: "AccessDeniedException", Message: "no", Status: 400}, 400, 1},
		{"default status", fakekms.Fault{Code: "AccessDeniedException", Message: "no"}, 400, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := start(t, awstest.FastRetries)
			blob := srv.Encrypt(keyA, ctxApp, secret)
			srv.SetFault(func(call fakekms.Call) *fakekms.Fault {
				if call.Operation != "Decrypt" {
					return nil
				}
				f := tc.fault
				return &f
			})
			out, err := decrypt(c, blob, keyA, ctxApp)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("Decrypt error = %v, want an API error", err)
			}
			if got, want := apiErr.ErrorCode(), tc.fault.Code; got != want {
				t.Errorf("error code = %q, want %q", got, want)
			}
			if got, want := apiErr.ErrorMessage(), tc.fault.Message; got != want {
				t.Errorf("error message = %q, want %q", got, want)
			}
			if got := status(err); got != tc.wantStatus {
				t.Errorf("HTTP status = %d, want %d", got, tc.wantStatus)
			}
			if out != nil {
				t.Errorf("Decrypt returned output with an error")
			}
			if got := srv.Calls("Decrypt"); got != tc.wantAttempts {
				t.Errorf("Calls(Decrypt) = %d, want %d", got, tc.wantAttempts)
			}

			srv.SetFault(nil)
			if _, err := decrypt(c, blob, keyA, ctxApp); err != nil {
				t.Errorf("Decrypt after SetFault(nil): %v", err)
			}
		})
	}
}

func TestFaultFirstAttemptOnly(t *testing.T) {
	srv, c := start(t, awstest.FastRetries)
	var (
		mu  sync.Mutex
		got []fakekms.Call
	)
	srv.SetFault(func(call fakekms.Call) *fakekms.Fault {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, call)
		if call.N == 1 {
			return &fakekms.Fault{Code: "ThrottlingException", Message: "slow down"}
		}
		return nil
	})
	blobA := srv.Encrypt(keyA, ctxApp, secret)
	blobB := srv.Encrypt(keyB, ctxApp, secret)
	for _, blob := range [][]byte{blobA, blobB} {
		out, err := decrypt(c, blob, "", ctxApp)
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		if diff := cmp.Diff(secret, out.Plaintext); diff != "" {
			t.Errorf("plaintext (-want +got):\n%s", diff)
		}
	}
	if n := srv.Calls("Decrypt"); n != 4 {
		t.Errorf("Calls(Decrypt) = %d, want 4 (a failed and a retried attempt per ciphertext)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	call := func(blob []byte, n int) fakekms.Call {
		return fakekms.Call{Operation: "Decrypt", Ciphertext: blob, Context: ctxApp, Region: fakekms.Region, AccessKeyID: awstest.AccessKeyID, N: n}
	}
	want := []fakekms.Call{call(blobA, 1), call(blobA, 2), call(blobB, 1), call(blobB, 2)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls seen by the FaultFunc (-want +got):\n%s", diff)
	}
}

func TestFaultResponseKeyID(t *testing.T) {
	srv, c := start(t)
	srv.SetFault(func(fakekms.Call) *fakekms.Fault {
		return &fakekms.Fault{ResponseKeyID: fakekms.ARN(keyB)}
	})
	out, err := decrypt(c, srv.Encrypt(keyA, ctxApp, secret), "", ctxApp)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if got, want := aws.ToString(out.KeyId), fakekms.ARN(keyB); got != want {
		t.Errorf("Decrypt KeyId = %q, want %q", got, want)
	}
	if diff := cmp.Diff(secret, out.Plaintext); diff != "" {
		t.Errorf("plaintext (-want +got):\n%s", diff)
	}

	// A failing Decrypt stays failing.
	_, err = decrypt(c, srv.Encrypt(keyA, ctxApp, secret), "", ctxOther)
	if got := code(err); got != "InvalidCiphertextException" {
		t.Errorf("Decrypt with the wrong context: error code = %q, want InvalidCiphertextException (err: %v)", got, err)
	}
}

func TestFaultDelay(t *testing.T) {
	srv, c := start(t)
	srv.SetFault(func(fakekms.Call) *fakekms.Fault {
		return &fakekms.Fault{Delay: time.Hour}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: srv.Encrypt(keyA, ctxApp, secret), EncryptionContext: ctxApp})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Decrypt error = %v, want context deadline exceeded", err)
	}
	if out != nil {
		t.Errorf("Decrypt returned output with an error")
	}
	if n := srv.Calls("Decrypt"); n != 1 {
		t.Errorf("Calls(Decrypt) = %d, want 1", n)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func TestHoldRelease(t *testing.T) {
	srv, c := start(t)
	blobs := [][]byte{
		srv.Encrypt(keyA, ctxApp, []byte("one")),
		srv.Encrypt(keyA, ctxApp, []byte("two")),
		srv.Encrypt(keyB, ctxApp, []byte("three")),
	}
	srv.Hold()

	type result struct {
		i         int
		plaintext []byte
		err       error
	}
	results := make(chan result, len(blobs))
	for i, blob := range blobs {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ctxApp})
			r := result{i: i, err: err}
			if out != nil {
				r.plaintext = out.Plaintext
			}
			results <- r
		}()
	}

	waitFor(t, "3 calls in flight", func() bool { return srv.InFlight() == len(blobs) })
	select {
	case r := <-results:
		t.Fatalf("call %d returned while held (err: %v)", r.i, r.err)
	default:
	}
	srv.Release()

	got := make([]string, len(blobs))
	for range blobs {
		r := <-results
		if r.err != nil {
			t.Errorf("Decrypt %d: %v", r.i, r.err)
		}
		got[r.i] = string(r.plaintext)
	}
	if diff := cmp.Diff([]string{"one", "two", "three"}, got); diff != "" {
		t.Errorf("plaintexts (-want +got):\n%s", diff)
	}
	if n := srv.MaxInFlight(); n != len(blobs) {
		t.Errorf("MaxInFlight() = %d, want %d", n, len(blobs))
	}
	waitFor(t, "no calls in flight", func() bool { return srv.InFlight() == 0 })
}

// TestFaultMalformedAnswers: Omit drops fields of a successful answer and
// Body replaces it, as a broken KMS or proxy might answer.
func TestFaultMalformedAnswers(t *testing.T) {
	srv, c := start(t)
	blob := srv.Encrypt(keyA, ctxApp, secret)
	srv.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Omit: []string{"Plaintext"}} })
	out, err := c.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ctxApp})
	if err != nil || out.Plaintext != nil || aws.ToString(out.KeyId) != fakekms.ARN(keyA) {
		t.Errorf("Omit Plaintext: %v, plaintext %q, key %q", err, out.Plaintext, aws.ToString(out.KeyId))
	}
	srv.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Body: "{}"} })
	out, err = c.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ctxApp})
	if err != nil || out.Plaintext != nil || out.KeyId != nil {
		t.Errorf("Body {}: %v, plaintext %q, key %v", err, out.Plaintext, out.KeyId)
	}
}

func TestCallRegion(t *testing.T) {
	for _, region := range []string{fakekms.Region, "us-west-2", "ap-southeast-2"} {
		t.Run(region, func(t *testing.T) {
			srv, _ := start(t)
			var (
				mu  sync.Mutex
				got []fakekms.Call
			)
			srv.SetFault(func(call fakekms.Call) *fakekms.Fault {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, call)
				return nil
			})
			c := client(srv.URL, region)
			blob := srv.Encrypt(keyA, ctxApp, secret)
			if _, err := c.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ctxApp, KeyId: aws.String("alias/a")}); err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			_, err := c.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ctxApp, DryRun: aws.Bool(true)})
			if code(err) != "DryRunOperationException" {
				t.Fatalf("Decrypt DryRun: %v", err)
			}
			if _, err := c.Encrypt(context.Background(), &kms.EncryptInput{KeyId: aws.String(keyB), Plaintext: secret}); err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			want := []fakekms.Call{
				{Operation: "Decrypt", KeyID: "alias/a", Ciphertext: blob, Context: ctxApp, Region: region, AccessKeyID: awstest.AccessKeyID, N: 1},
				{Operation: "Decrypt", Ciphertext: blob, Context: ctxApp, Region: region, AccessKeyID: awstest.AccessKeyID, DryRun: true, N: 2},
				{Operation: "Encrypt", KeyID: keyB, Region: region, AccessKeyID: awstest.AccessKeyID, N: 1},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("calls seen by the FaultFunc (-want +got):\n%s", diff)
			}
			for op, n := range map[string]int{"Decrypt": 2, "Encrypt": 1, "ReEncrypt": 0} {
				if got := srv.Calls(op); got != n {
					t.Errorf("Calls(%s) = %d, want %d", op, got, n)
				}
			}
		})
	}
}

// TestRegionalKeys: a key made with CreateKeyIn lives in its region, as a
// KMS key does: found, used and named there only.
func TestRegionalKeys(t *testing.T) {
	srv, _ := start(t)
	arn := srv.CreateKeyIn("us-east-1", "44444444-4444-4444-4444-444444444444", "alias/east")
	if want := "arn:aws:kms:us-east-1:" + fakekms.Account + ":key/44444444-4444-4444-4444-444444444444"; arn != want {
		t.Fatalf("ARN = %q, want %q", arn, want)
	}
	east, west := client(srv.URL, "us-east-1"), client(srv.URL, fakekms.Region)
	ctx := context.Background()
	out, err := east.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/east"), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.KeyId); got != arn {
		t.Errorf("Encrypt KeyId = %q, want %q", got, arn)
	}
	dec, err := east.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, KeyId: aws.String(arn)})
	if err != nil || aws.ToString(dec.KeyId) != arn {
		t.Errorf("Decrypt in its region: %v, KeyId %q", err, aws.ToString(dec.KeyId))
	}
	for name, call := range map[string]func() error{
		"Encrypt by alias in another region": func() error {
			_, err := west.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/east"), Plaintext: []byte("x")})
			return err
		},
		"Decrypt in another region": func() error {
			_, err := west.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
			return err
		},
		"Decrypt pinned to its ARN in another region": func() error {
			_, err := west.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, KeyId: aws.String(arn)})
			return err
		},
	} {
		if got := code(call()); got != "NotFoundException" {
			t.Errorf("%s: code %q, want NotFoundException", name, got)
		}
	}
}
