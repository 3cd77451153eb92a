package tlsroots

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"kmsgen.dev/kmsgen/internal/testca"
)

// systemBundle is the machine's bundle file: real certificates of every
// vintage for subjectOf. Every supported build host has one.
const systemBundle = "/etc/ssl/certs/ca-certificates.crt"

// TestSubjectOf: subjectOf finds what x509.ParseCertificate calls the
// subject, for every certificate of the system bundle and the test's own.
func TestSubjectOf(t *testing.T) {
	data, err := os.ReadFile(systemBundle)
	if err != nil {
		t.Fatalf("the system bundle (install ca-certificates): %v", err)
	}
	var ders [][]byte
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		ders = append(ders, block.Bytes)
	}
	if len(ders) < 50 {
		t.Fatalf("%s holds %d certificates", systemBundle, len(ders))
	}
	ders = append(ders, bundleRoot.Cert.Raw, testca.Must(t, testca.Spec{Name: "leaf"}, &bundleRoot).Cert.Raw)
	for i, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		subject, ok := subjectOf(der)
		if !ok || !bytes.Equal(subject, cert.RawSubject) {
			t.Errorf("certificate %d (%s): subjectOf = %x, %v; want %x", i, cert.Subject, subject, ok, cert.RawSubject)
		}
	}
}

// FuzzSubjectOf: whatever x509.ParseCertificate accepts, subjectOf finds
// the same subject in; on anything else it does not panic.
func FuzzSubjectOf(f *testing.F) {
	f.Add(bundleRoot.Cert.Raw)
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		subject, ok := subjectOf(der)
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		if !ok || !bytes.Equal(subject, cert.RawSubject) {
			t.Errorf("subjectOf = %x, %v; x509 says %x", subject, ok, cert.RawSubject)
		}
	})
}

// TestReadIndex: the first file that can be read is the bundle, as in
// crypto/x509; a missing file or one that cannot be read is passed over.
func TestReadIndex(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	if err := os.WriteFile(good, append(bundleRoot.PEM(), twinRoot.PEM()...), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(other, dirRoot.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := readIndex([]string{filepath.Join(dir, "missing.pem"), dir, good, other})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(idx[string(bundleRoot.Cert.RawSubject)]); got != 2 {
		t.Errorf("%d certificates under the bundle root's subject, want 2 (it and its twin)", got)
	}
	if _, ok := idx[string(dirRoot.Cert.RawSubject)]; ok {
		t.Error("read past the first readable file")
	}
	if _, err := readIndex([]string{filepath.Join(dir, "missing.pem")}); err == nil {
		t.Error("no file could be read, and no error")
	}
}
