package encrypt

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/internal/kmstest"
)

const key = "11111111-1111-1111-1111-111111111111"

func TestText(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(key, "alias/app"))
	kms := awskms.New(awskms.Options{})
	settings := api.KMS{KeyID: "alias/app", EncryptionContext: map[string]string{"app": "x"}}
	target := awskms.Target{KeyID: "alias/app", Context: settings.EncryptionContext}
	for _, size := range []int{1, 4096, 4097, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			plaintext := bytes.Repeat([]byte{0, 1, 0xfe, 'a'}, size/4+1)[:size]
			text, err := Text(context.Background(), kms, settings, plaintext)
			if err != nil {
				t.Fatal(err)
			}
			ct, err := ciphertext.Parse(text, false)
			if err != nil {
				t.Fatalf("kmsgen cannot read its own ciphertext: %v", err)
			}
			if envelope := ct.Envelope != nil; envelope != (size > awskms.MaxPlaintext) {
				t.Fatalf("envelope = %v for %d bytes", envelope, size)
			}
			if ct.Envelope == nil {
				// exactly what `aws kms encrypt --output text` prints
				if want := base64.StdEncoding.EncodeToString(ct.Blob) + "\n"; string(text) != want {
					t.Errorf("text is not the base64 of the blob and a newline")
				}
			}
			got, err := kms.Decrypt(context.Background(), target, ct.Blob)
			if err != nil {
				t.Fatal(err)
			}
			if ct.Envelope != nil {
				if got, err = ct.Envelope.Open(got, target.Context); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, plaintext) {
				t.Error("the round trip changed the plaintext")
			}
		})
	}
	if _, err := Text(context.Background(), kms, settings, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty plaintext: %v, want ErrEmpty", err)
	}
	if n := fake.Calls("GenerateDataKey"); n != 2 {
		t.Errorf("GenerateDataKey calls = %d, want 2 (the two envelopes)", n)
	}
}
