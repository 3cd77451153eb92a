// Package testca issues certificates for tests and benchmarks: CAs,
// intermediates and server certificates (for localhost and 127.0.0.1 unless
// told otherwise), good and deliberately bad.
package testca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync/atomic"
	"time"
)

// Cert is a certificate and its key.
type Cert struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// PEM is the certificate as a PEM block.
func (c Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// Spec says how a certificate differs from a valid server certificate for
// localhost and 127.0.0.1, valid for an hour either side of now.
type Spec struct {
	Name     string   // the subject's common name
	CA       bool     // a CA that may sign certificates (no names)
	DNSNames []string // the names, instead of localhost
	Expired  bool     // valid only until yesterday
	Usage    []x509.ExtKeyUsage
}

var serial atomic.Int64

// New issues a certificate for spec signed by parent, or self-signed when
// parent is nil.
func New(spec Spec, parent *Cert) (Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Cert{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: spec.Name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		BasicConstraintsValid: true,
	}
	if spec.Expired {
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	}
	if spec.CA {
		tmpl.IsCA, tmpl.KeyUsage = true, x509.KeyUsageCertSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.DNSNames = spec.DNSNames
		if tmpl.DNSNames == nil {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		tmpl.ExtKeyUsage = spec.Usage
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return Cert{}, err
	}
	cert, err := x509.ParseCertificate(der)
	return Cert{cert, key}, err
}

// Must is New for a test: it fails the test on an error.
func Must(t interface {
	Helper()
	Fatal(...any)
}, spec Spec, parent *Cert) Cert {
	t.Helper()
	c, err := New(spec, parent)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ServerCertificate is what a server presents: chain[0] with its key, then
// the rest of chain.
func ServerCertificate(chain ...Cert) tls.Certificate {
	c := tls.Certificate{PrivateKey: chain[0].Key, Leaf: chain[0].Cert}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Cert.Raw)
	}
	return c
}
