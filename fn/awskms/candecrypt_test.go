package awskms

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/fakekms"
)

// TestCanDecryptAll: one Decrypt DryRun per distinct request, none real, an
// answer per request in order, and KMS's refusals classified.
func TestCanDecryptAll(t *testing.T) {
	fake, d := setup(t)
	ctx := map[string]string{"app": "myproject"}
	good := fake.Encrypt(keyA, ctx, []byte(canary))
	denied := fake.Encrypt(keyB, ctx, []byte(canary))
	var mu sync.Mutex
	var real, dry int
	fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
		mu.Lock()
		defer mu.Unlock()
		if !c.DryRun {
			real++
			return &fakekms.Fault{Code: "AccessDeniedException", Message: "a real Decrypt"}
		}
		dry++
		if string(c.Ciphertext) == string(denied) {
			return &fakekms.Fault{Code: "AccessDeniedException", Message: "not allowed"}
		}
		return nil
	})
	errs := d.CanDecryptAll(context.Background(), []Request{
		{Blob: good, Target: Target{Context: ctx}},
		{Blob: denied, Target: Target{KeyID: "alias/b", Context: ctx}},
		{Blob: good, Target: Target{Context: map[string]string{"app": "other"}}},
		{Blob: good, Target: Target{Context: ctx}},
	})
	var got []string
	for _, err := range errs {
		code := "allowed"
		if e, ok := err.(*Error); ok {
			code = e.Code
		} else if err != nil {
			t.Fatalf("error %v is a %T, not an *Error", err, err)
		}
		got = append(got, code)
	}
	want := []string{"allowed", "AccessDeniedException", "InvalidCiphertextException", "allowed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if real != 0 || dry != 3 {
		t.Errorf("Decrypt calls: %d real, %d dry run; want 0 and 3 (the repeated request asked once)", real, dry)
	}
	assertError(t, errs[1], "AccessDeniedException", "access denied: kms:Decrypt on key alias/b")
}
