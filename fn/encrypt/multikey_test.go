package encrypt

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
)

const (
	keyB   = "22222222-2222-2222-2222-222222222222"
	canary = "CANARY-encrypt-multikey"
)

func TestMultiKey(t *testing.T) {
	fake := kmstest.Start(t)
	arnA := fake.CreateKeyIn("eu-west-1", key, "alias/app")
	arnB := fake.CreateKeyIn("us-east-1", keyB, "alias/dr")
	var mu sync.Mutex
	var calls []string
	fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, c.Operation+" "+c.KeyID+"@"+c.Region)
		return nil
	})
	ctx := map[string]string{"app": "x"}
	tests := []struct {
		name      string
		settings  api.KMS
		keys      []string
		plaintext string
		wantARNs  []string
		wantCalls []string
		wantErr   string
	}{
		{name: "an alias and a key ARN in another region, a small value",
			settings: api.KMS{KeyID: "alias/app", EncryptionContext: ctx}, keys: []string{"alias/app", arnB}, plaintext: canary,
			wantARNs:  []string{arnA, arnB},
			wantCalls: []string{"GenerateDataKey alias/app@eu-west-1", "Encrypt " + arnB + "@us-east-1"}},
		{name: "a key ARN is called in its region, whatever kms.region",
			settings: api.KMS{Region: "eu-west-1", EncryptionContext: ctx}, keys: []string{arnB, "alias/app"}, plaintext: strings.Repeat(canary, 300),
			wantARNs:  []string{arnB, arnA},
			wantCalls: []string{"GenerateDataKey " + arnB + "@us-east-1", "Encrypt alias/app@eu-west-1"}},
		{name: "one key: still a version 2 envelope",
			settings: api.KMS{EncryptionContext: ctx}, keys: []string{arnB}, plaintext: canary,
			wantARNs: []string{arnB}, wantCalls: []string{"GenerateDataKey " + arnB + "@us-east-1"}},
		{name: "one key twice", settings: api.KMS{EncryptionContext: ctx}, keys: []string{"alias/app", arnA}, plaintext: canary,
			wantErr: "alias/app and " + arnA + " name the same key"},
		{name: "a key that cannot be used", settings: api.KMS{EncryptionContext: ctx}, keys: []string{"alias/app", "alias/missing"}, plaintext: canary,
			wantErr: "alias/missing was not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			kms := awskms.New(awskms.Options{})
			text, err := MultiKey(context.Background(), kms, tc.settings, tc.keys, []byte(tc.plaintext))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), canary) {
					t.Fatalf("error = %v, want one with %q and no plaintext", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			ct, err := ciphertext.Parse(text, false)
			if err != nil {
				t.Fatal(err)
			}
			if ct.Envelope == nil || ct.Envelope.Version() != envelope.Version2 {
				t.Fatalf("not a version 2 envelope:\n%s", text)
			}
			if diff := cmp.Diff(tc.wantARNs, ct.KeyARNs()); diff != "" {
				t.Errorf("key ARNs (-want +got):\n%s", diff)
			}
			// each key alone opens it
			for _, k := range ct.Envelope.Keys {
				dataKey, err := kms.Decrypt(context.Background(), awskms.Target{KeyID: k.KeyARN, Region: envelope.KeyRegion(k.KeyARN), Context: ctx}, k.Blob)
				if err != nil {
					t.Fatalf("%s: %v", k.KeyARN, err)
				}
				got, err := ct.Envelope.Open(dataKey, ctx)
				if err != nil || !bytes.Equal(got, []byte(tc.plaintext)) {
					t.Errorf("%s does not open it: %v", k.KeyARN, err)
				}
			}
		})
	}
}
