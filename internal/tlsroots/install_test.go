package tlsroots

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"kmsgen.dev/kmsgen/internal/testca"
)

// TestForHostLeavesAlone: wherever crypto/tls would not verify against the
// system pool, or VerifyConnection would not learn the name it must check,
// ForHost changes nothing.
func TestForHostLeavesAlone(t *testing.T) {
	proxy := func(u string) func(*http.Request) (*url.URL, error) {
		return func(*http.Request) (*url.URL, error) { return url.Parse(u) }
	}
	cases := []struct {
		name string
		host string
		tr   *http.Transport
	}{
		{"an IPv4 address", "127.0.0.1", &http.Transport{}},
		{"an IPv6 address", "::1", &http.Transport{}},
		{"an IPv6 address with a zone", "fe80::1%eth0", &http.Transport{}},
		{"custom roots (AWS_CA_BUNDLE)", "kms.eu-west-1.amazonaws.com", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}},
		{"verification already off", "kms.eu-west-1.amazonaws.com", &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}},
		{"a clock of its own", "kms.eu-west-1.amazonaws.com", &http.Transport{TLSClientConfig: &tls.Config{Time: time.Now}}},
		{"a server name of its own", "kms.eu-west-1.amazonaws.com", &http.Transport{TLSClientConfig: &tls.Config{ServerName: "kms.example"}}},
		{"Encrypted Client Hello", "kms.eu-west-1.amazonaws.com", &http.Transport{TLSClientConfig: &tls.Config{EncryptedClientHelloConfigList: []byte{0}}}},
		{"an https proxy at an IP address", "kms.eu-west-1.amazonaws.com", &http.Transport{Proxy: proxy("https://10.0.0.1:3128")}},
		{"a proxy that cannot be worked out", "kms.eu-west-1.amazonaws.com", &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return nil, errors.New("bad NO_PROXY") }}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.tr.TLSClientConfig.Clone()
			ForHost(tc.host)(tc.tr)
			after := tc.tr.TLSClientConfig
			if (before == nil) != (after == nil) || after != nil && (after.InsecureSkipVerify != before.InsecureSkipVerify || after.VerifyConnection != nil) {
				t.Errorf("ForHost(%q) changed the TLS configuration: %+v", tc.host, after)
			}
		})
	}
}

// TestForHostInstalls: a DNS name, directly or through an http proxy or an
// https proxy with a name, gets the Verifier, and a VerifyConnection the
// transport had still runs, after it.
func TestForHostInstalls(t *testing.T) {
	for _, proxy := range []string{"", "http://10.0.0.1:3128", "https://proxy.example:3128"} {
		tr := &http.Transport{}
		if proxy != "" {
			u, _ := url.Parse(proxy)
			tr.Proxy = http.ProxyURL(u)
		}
		ForHost("kms.eu-west-1.amazonaws.com")(tr)
		if cfg := tr.TLSClientConfig; cfg == nil || !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil {
			t.Errorf("proxy %q: ForHost did not install the verifier", proxy)
		}
	}

	called := false
	tr := &http.Transport{TLSClientConfig: &tls.Config{VerifyConnection: func(tls.ConnectionState) error { called = true; return nil }}}
	ForHost("localhost")(tr)
	leaf := testca.Must(t, testca.Spec{Name: "leaf"}, &bundleRoot)
	if err := tr.TLSClientConfig.VerifyConnection(tls.ConnectionState{ServerName: "localhost", PeerCertificates: []*x509.Certificate{leaf.Cert}}); err != nil || !called {
		t.Errorf("the transport's own VerifyConnection: called %v, error %v", called, err)
	}
	called = false
	stranger := testca.Must(t, testca.Spec{Name: "leaf"}, &strangerRoot)
	if err := tr.TLSClientConfig.VerifyConnection(tls.ConnectionState{ServerName: "localhost", PeerCertificates: []*x509.Certificate{stranger.Cert}}); err == nil || called {
		t.Errorf("a chain to no trusted root: error %v, the transport's own VerifyConnection called %v", err, called)
	}
}

// TestVerifyRefusesWithoutAName: crypto/tls will not verify a server
// without a name to check, nor a server that presents nothing.
func TestVerifyRefusesWithoutAName(t *testing.T) {
	leaf := testca.Must(t, testca.Spec{Name: "leaf"}, &bundleRoot)
	if err := Default().Verify("", []*x509.Certificate{leaf.Cert}); err == nil {
		t.Error("verified a chain without a server name")
	}
	if err := Default().Verify("localhost", nil); err == nil {
		t.Error("verified no certificate")
	}
}
