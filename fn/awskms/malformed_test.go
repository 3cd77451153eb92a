package awskms

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/internal/fakekms"
)

// TestMalformedAnswersFailClosed: an answer with HTTP 200 that lacks what
// the operation returns is an error, never an empty plaintext or
// ciphertext; a pinned key ARN needs a KeyId to check.
func TestMalformedAnswersFailClosed(t *testing.T) {
	ctx := map[string]string{"app": "x"}
	tests := []struct {
		name  string
		fault fakekms.Fault
		call  func(*fakekms.Server, *Client) error
		want  string
	}{
		{"Decrypt answered {}", fakekms.Fault{Body: "{}"}, decryptWith(Target{Context: ctx}), "answered Decrypt with no Plaintext"},
		{"Decrypt without Plaintext", fakekms.Fault{Omit: []string{"Plaintext"}}, decryptWith(Target{Context: ctx}), "answered Decrypt with no Plaintext"},
		{"Decrypt without KeyId, key ARN pinned", fakekms.Fault{Omit: []string{"KeyId"}}, decryptWith(Target{KeyID: fakekms.ARN(keyA), Context: ctx}),
			"answered Decrypt with no KeyId, so it cannot show it used the key kms.keyId pins"},
		{"Encrypt without CiphertextBlob", fakekms.Fault{Omit: []string{"CiphertextBlob"}}, func(_ *fakekms.Server, d *Client) error {
			_, err := d.Encrypt(context.Background(), Target{KeyID: keyA}, []byte(canary))
			return err
		}, "answered Encrypt with no CiphertextBlob"},
		{"GenerateDataKey without Plaintext", fakekms.Fault{Omit: []string{"Plaintext"}}, func(_ *fakekms.Server, d *Client) error {
			_, _, err := d.GenerateDataKey(context.Background(), Target{KeyID: keyA})
			return err
		}, "answered GenerateDataKey with no 32-byte Plaintext or no CiphertextBlob"},
		{"ReEncrypt answered {}", fakekms.Fault{Body: "{}"}, func(fake *fakekms.Server, d *Client) error {
			_, err := d.ReEncrypt(context.Background(), Target{}, Target{KeyID: keyB}, fake.Encrypt(keyA, nil, []byte(canary)))
			return err
		}, "answered ReEncrypt with no CiphertextBlob"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, d := setup(t)
			fake.SetFault(func(fakekms.Call) *fakekms.Fault { f := tc.fault; return &f })
			err := tc.call(fake, d)
			var kerr *Error
			if !errors.As(err, &kerr) || kerr.Code != CodeMalformed || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want a %s error containing %q", err, CodeMalformed, tc.want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error holds the plaintext: %v", err)
			}
		})
	}
}

func decryptWith(target Target) func(*fakekms.Server, *Client) error {
	return func(fake *fakekms.Server, d *Client) error {
		return d.DecryptAll(context.Background(), []Request{{Blob: fake.Encrypt(keyA, target.Context, []byte(canary)), Target: target}})[0].Err
	}
}
