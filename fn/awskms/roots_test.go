package awskms

import (
	"os"
	"path/filepath"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/testca"
)

// TestFastRootsOnlyForHTTPSNames: a KMS client verifies with tlsroots
// when it calls KMS over https by name (AWS's endpoints, a private one);
// not over http, not at an IP address, and not when custom roots are set
// (AWS_CA_BUNDLE), which keep crypto/tls's verification.
func TestFastRootsOnlyForHTTPSNames(t *testing.T) {
	cases := []struct {
		endpoint string
		caBundle bool
		want     bool
	}{
		{"", false, true},
		{"https://kms.internal.example", false, true},
		{"https://localhost:8443", false, true},
		{"https://127.0.0.1:8443", false, false},
		{"http://localhost:8080", false, false},
		{"", true, false},
	}
	for _, tc := range cases {
		awstest.Clear(t)
		t.Setenv("AWS_ACCESS_KEY_ID", awstest.AccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.SecretAccessKey)
		if tc.caBundle {
			bundle := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(bundle, testca.Must(t, testca.Spec{Name: "private CA", CA: true}, nil).PEM(), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("AWS_CA_BUNDLE", bundle)
		}
		cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("eu-west-1"))
		if err != nil {
			t.Fatal(err)
		}
		d := New(Options{})
		c := d.newClient(cfg, "eu-west-1", tc.endpoint, "")
		tr := c.Options().HTTPClient.(*awshttp.BuildableClient).GetTransport()
		got := tr.TLSClientConfig.VerifyConnection != nil && tr.TLSClientConfig.InsecureSkipVerify
		if got != tc.want {
			t.Errorf("endpoint %q, AWS_CA_BUNDLE %v: tlsroots installed %v, want %v (RootCAs set: %v)",
				tc.endpoint, tc.caBundle, got, tc.want, tr.TLSClientConfig.RootCAs != nil)
		}
	}
}
