package awskms

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/internal/fakekms"
)

// TestSDKLogsStayOffStderr: a truncated answer makes the SDK log a warning
// ("failed to discard remaining HTTP response body"); it is counted and
// never written to stderr.
func TestSDKLogsStayOffStderr(t *testing.T) {
	fake, d := setup(t)
	fake.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{CutBody: true} })
	stderr := captureStderr(t, func() {
		if res := d.DecryptAll(context.Background(), []Request{{Blob: fake.Encrypt(keyA, nil, []byte(canary))}}); res[0].Err == nil {
			t.Error("a truncated answer decrypted")
		}
	})
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
	if d.SDKWarnings() == 0 {
		t.Error("the SDK's warning was not counted")
	}
}

// captureStderr returns what f writes to the process's stderr.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, r)
		done <- b.String()
	}()
	f()
	os.Stderr = old
	w.Close()
	return strings.TrimSpace(<-done)
}
