package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// testCA signs the proxy's certificate for 127.0.0.1.
type testCA struct {
	certPEM []byte
	server  tls.Certificate
}

func newTestCA() (*testCA, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kmsgen bench CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return &testCA{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server:  tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
	}, nil
}

// systemCertDirWith copies the system's certificate directory
// (/etc/ssl/certs: the bundle, every certificate or a link to it, and the
// hash-named links to those, as Debian and Ubuntu, Argo CD's image
// included, lay it out) into dir, links kept as links, and adds the test
// CA, so that a client pointed at it with SSL_CERT_DIR reads what it would
// read to reach AWS.
func systemCertDirWith(dir string, ca []byte) (string, error) {
	const system = "/etc/ssl/certs"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(system)
	if err != nil {
		return "", fmt.Errorf("the system certificate directory: %w", err)
	}
	n := 0
	for _, e := range entries {
		src, dst := filepath.Join(system, e.Name()), filepath.Join(dir, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(src)
			if err != nil {
				return "", err
			}
			if err := os.Symlink(target, dst); err != nil {
				return "", err
			}
		case e.Type().IsRegular():
			data, err := os.ReadFile(src)
			if err != nil {
				return "", err
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				return "", err
			}
		default:
			continue
		}
		n++
	}
	if n < 10 {
		return "", fmt.Errorf("%s holds %d certificate files: install ca-certificates for the https figures to mean anything", system, n)
	}
	return dir, os.WriteFile(filepath.Join(dir, "kmsgen-bench-ca.pem"), ca, 0o644)
}
