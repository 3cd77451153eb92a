package tlsroots

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
	"sync/atomic"
)

// Verifier verifies server certificate chains against the roots of one
// bundle file, falling back to the system pool. It is safe for concurrent
// use; the bundle is read once, on Prefetch or the first verification.
type Verifier struct {
	index func() (index, error)
	// fallbacks counts the verifications the bundle's roots did not
	// settle, for tests.
	fallbacks atomic.Int64
}

// New returns a Verifier over the first file of files that can be read,
// which must be the bundle file crypto/x509 reads for the system pool (or
// another subset of that pool): the fast path trusts what it holds.
func New(files []string) *Verifier {
	return &Verifier{index: sync.OnceValues(func() (index, error) { return readIndex(files) })}
}

// Prefetch starts reading the bundle in the background, so that it is
// ready by the first handshake.
func (v *Verifier) Prefetch() { go v.index() }

// Verify does what crypto/tls does when it verifies a server against the
// system pool (Conn.verifyServerCertificate): certs[0] must verify for
// serverName (a DNS name or an IP address), now, for server authentication,
// with the rest of certs as intermediates, up to one of the bundle's roots
// or, failing that, one of the system pool's. Errors are
// *tls.CertificateVerificationError, as crypto/tls returns them.
func (v *Verifier) Verify(serverName string, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return errors.New("tls: the server presented no certificate")
	}
	if serverName == "" {
		// crypto/tls refuses to verify without a name too.
		return errors.New("tls: no server name to verify the server's certificate against")
	}
	opts := x509.VerifyOptions{DNSName: serverName, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if roots := v.rootsFor(certs); roots != nil {
		opts.Roots = roots
		if _, err := certs[0].Verify(opts); err == nil {
			return nil
		}
	}
	v.fallbacks.Add(1)
	opts.Roots = nil // the system pool
	if _, err := certs[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// rootsFor returns the bundle's certificates that can end a chain through
// certs: those whose subject is the issuer or the subject of one of them.
// It returns nil when there are none or the bundle could not be read.
func (v *Verifier) rootsFor(certs []*x509.Certificate) *x509.CertPool {
	idx, err := v.index()
	if err != nil {
		return nil
	}
	var pool *x509.CertPool
	seen := map[string]bool{}
	for _, c := range certs {
		for _, name := range []string{string(c.RawIssuer), string(c.RawSubject)} {
			if seen[name] {
				continue
			}
			seen[name] = true
			for _, der := range idx[name] {
				root, err := x509.ParseCertificate(der)
				if err != nil {
					continue // x509.CertPool.AppendCertsFromPEM skips it too
				}
				if pool == nil {
					pool = x509.NewCertPool()
				}
				pool.AddCert(root)
			}
		}
	}
	return pool
}
