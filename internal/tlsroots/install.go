package tlsroots

import (
	"crypto/fips140"
	"crypto/tls"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sync"
)

// Default is the Verifier for this process's environment: over
// SSL_CERT_FILE when it is set, otherwise over the first readable of the
// bundle files crypto/x509 tries. It is nil where Go does not read a bundle
// file for its system pool (macOS, Windows, systems other than Linux).
var Default = sync.OnceValue(func() *Verifier {
	if len(bundleFiles) == 0 {
		return nil
	}
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		return New([]string{f})
	}
	return New(bundleFiles)
})

// Prefetch starts Default reading its bundle in the background, where
// there is a Default.
func Prefetch() {
	if v := Default(); v != nil {
		v.Prefetch()
	}
}

// ForHost returns an http.Transport option that verifies the servers of
// https://host with Default, where crypto/tls would verify them against the
// system pool. Apply it after every option that may set the transport's
// RootCAs (the AWS SDK sets them for AWS_CA_BUNDLE or a profile's
// ca_bundle).
//
// It leaves the transport as it is when Default is nil; when host is an IP
// address, or its proxy is an https proxy at an IP address (crypto/tls does
// not tell VerifyConnection an IP address it dialled); when the TLS
// configuration has RootCAs, skips verification, sets a clock, a server
// name or Encrypted Client Hello; and in FIPS 140 mode, whose chain rules
// crypto/tls applies itself.
//
// crypto/tls's own verification is replaced, not skipped: with
// InsecureSkipVerify set it still calls VerifyConnection on every
// handshake, resumed ones included, and fails the handshake on its error
// (crypto/tls's Config.VerifyConnection example).
func ForHost(host string) func(*http.Transport) {
	return func(tr *http.Transport) {
		v := Default()
		if v == nil || fips140.Enabled() || isIP(host) || httpsProxyAtIP(tr, host) {
			return
		}
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		cfg := tr.TLSClientConfig
		if cfg.RootCAs != nil || cfg.InsecureSkipVerify || cfg.Time != nil || cfg.ServerName != "" || cfg.EncryptedClientHelloConfigList != nil {
			return
		}
		v.Prefetch()
		next := cfg.VerifyConnection
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			// cs.ServerName is the name the client asked for: net/http sets
			// it to the host it connects to.
			if err := v.Verify(cs.ServerName, cs.PeerCertificates); err != nil {
				return err
			}
			if next != nil {
				return next(cs)
			}
			return nil
		}
	}
}

// isIP reports whether host is an IP address, zone or not.
func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

func httpsProxyAtIP(tr *http.Transport, host string) bool {
	if tr.Proxy == nil {
		return false
	}
	proxy, err := tr.Proxy(&http.Request{URL: &url.URL{Scheme: "https", Host: host}})
	return err != nil || proxy != nil && proxy.Scheme == "https" && isIP(proxy.Hostname())
}
