package tlsroots

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"kmsgen.dev/kmsgen/internal/testca"
)

// The process's system pool is what crypto/x509 loads from SSL_CERT_FILE
// and SSL_CERT_DIR, which TestMain points at these roots before anything
// verifies a certificate: bundleRoot in the bundle file (and the directory,
// as update-ca-certificates lays them out), dirRoot only in the directory,
// twinRoot in the bundle with bundleRoot's subject. strangerRoot is in
// neither.
var bundleRoot, twinRoot, dirRoot, strangerRoot testca.Cert

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "tlsroots-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	for _, r := range []struct {
		c    *testca.Cert
		name string
	}{{&bundleRoot, "bundle root"}, {&twinRoot, "bundle root"}, {&dirRoot, "directory root"}, {&strangerRoot, "stranger root"}} {
		if *r.c, err = testca.New(testca.Spec{Name: r.name, CA: true}, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	bundle := append(append([]byte("# roots\n"), twinRoot.PEM()...), bundleRoot.PEM()...)
	dir := filepath.Join(tmp, "certs")
	for name, data := range map[string][]byte{
		"bundle.crt":       bundle,
		"certs/bundle.pem": bundleRoot.PEM(),
		"certs/dir.pem":    dirRoot.PEM(),
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(tmp, name)), 0o755)
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	os.Setenv("SSL_CERT_FILE", filepath.Join(tmp, "bundle.crt"))
	os.Setenv("SSL_CERT_DIR", dir)
	return m.Run()
}

// TestVerifyAsCryptoTLS makes the same https request through a transport
// with ForHost and through one with crypto/tls's own verification, to
// servers presenting good and bad chains: both must accept the same ones
// and refuse the others with the same kind of error; the bundle's roots
// must settle what they can.
func TestVerifyAsCryptoTLS(t *testing.T) {
	inter := testca.Must(t, testca.Spec{Name: "intermediate", CA: true}, &bundleRoot)
	cases := []struct {
		name     string
		chain    func() []testca.Cert
		host     string // default localhost
		ok       bool
		want     any // the x509 error type of a refusal
		fallback bool
	}{
		{name: "root in the bundle", ok: true,
			chain: func() []testca.Cert { return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf"}, &bundleRoot)} }},
		{name: "root in the bundle, reached through an intermediate", ok: true,
			chain: func() []testca.Cert { return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf"}, &inter), inter} }},
		{name: "root shares its subject with another root in the bundle", ok: true,
			chain: func() []testca.Cert { return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf"}, &twinRoot)} }},
		{name: "root only in the certificate directory", ok: true, fallback: true,
			chain: func() []testca.Cert { return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf"}, &dirRoot)} }},
		{name: "root in neither", want: x509.UnknownAuthorityError{}, fallback: true,
			chain: func() []testca.Cert { return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf"}, &strangerRoot)} }},
		{name: "intermediate not presented", want: x509.UnknownAuthorityError{}, fallback: true,
			chain: func() []testca.Cert { return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf"}, &inter)} }},
		{name: "a name the certificate does not hold", want: x509.HostnameError{}, fallback: true,
			chain: func() []testca.Cert {
				return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf", DNSNames: []string{"kms.example"}}, &bundleRoot)}
			}},
		{name: "expired", want: x509.CertificateInvalidError{}, fallback: true,
			chain: func() []testca.Cert {
				return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf", Expired: true}, &bundleRoot)}
			}},
		{name: "not for server authentication", want: x509.CertificateInvalidError{}, fallback: true,
			chain: func() []testca.Cert {
				return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf", Usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, &bundleRoot)}
			}},
		{name: "a self-signed certificate", want: x509.UnknownAuthorityError{}, fallback: true,
			chain: func() []testca.Cert { return []testca.Cert{testca.Must(t, testca.Spec{Name: "leaf"}, nil)} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{testca.ServerCertificate(tc.chain()...)}}
			srv.StartTLS()
			defer srv.Close()
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			url := "https://localhost:" + port

			fast := &http.Transport{}
			ForHost("localhost")(fast)
			if !fast.TLSClientConfig.InsecureSkipVerify || fast.TLSClientConfig.VerifyConnection == nil {
				t.Fatal("ForHost did not install the verifier")
			}
			before := Default().fallbacks.Load()
			fastErr := get(fast, url)
			fellBack := Default().fallbacks.Load() > before
			stdErr := get(&http.Transport{}, url)

			if (fastErr == nil) != tc.ok || (stdErr == nil) != tc.ok {
				t.Fatalf("want ok=%v; with ForHost: %v; with crypto/tls: %v", tc.ok, fastErr, stdErr)
			}
			if fellBack != tc.fallback {
				t.Errorf("fell back to the system pool: %v, want %v", fellBack, tc.fallback)
			}
			if tc.ok {
				return
			}
			for _, err := range []error{fastErr, stdErr} {
				var cve *tls.CertificateVerificationError
				if !errors.As(err, &cve) {
					t.Errorf("%v: not a *tls.CertificateVerificationError", err)
					continue
				}
				if fmt.Sprintf("%T", cve.Err) != fmt.Sprintf("%T", tc.want) {
					t.Errorf("%v: the x509 error is a %T, want %T", err, cve.Err, tc.want)
				}
			}
			if fastErr.Error() != stdErr.Error() {
				t.Errorf("errors differ:\nForHost:    %v\ncrypto/tls: %v", fastErr, stdErr)
			}
		})
	}
}

func get(tr *http.Transport, url string) error {
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
