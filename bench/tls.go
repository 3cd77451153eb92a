package main

import (
	"kmsgen.dev/kmsgen/internal/testca"

	"crypto/tls"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// testCA signs the proxy's certificate for localhost and 127.0.0.1.
type testCA struct {
	certPEM []byte
	server  tls.Certificate
}

func newTestCA() (*testCA, error) {
	ca, err := testca.New(testca.Spec{Name: "kmsgen bench CA", CA: true}, nil)
	if err != nil {
		return nil, err
	}
	leaf, err := testca.New(testca.Spec{Name: "localhost"}, &ca)
	if err != nil {
		return nil, err
	}
	return &testCA{certPEM: ca.PEM(), server: testca.ServerCertificate(leaf)}, nil
}

// systemBundleWith copies the system's bundle file (what Go reads first,
// and all that many clients read) to file with the test CA added, as
// update-ca-certificates adds a local CA to both the bundle and the
// directory, where AWS's roots are too.
func systemBundleWith(file string, ca []byte) (string, error) {
	const system = "/etc/ssl/certs/ca-certificates.crt"
	data, err := os.ReadFile(system)
	if err != nil {
		return "", fmt.Errorf("the system certificate bundle: %w", err)
	}
	return file, os.WriteFile(file, append(data, ca...), 0o644)
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
