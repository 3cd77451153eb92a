package tlsroots

import (
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// index maps a certificate's DER-encoded subject to the DER of every
// certificate in the bundle with that subject.
type index map[string][][]byte

// readIndex indexes the first of files that can be read, as crypto/x509
// picks the bundle file (loadOnDiskRoots). It fails only when none can be
// read; a file without a certificate gives an empty index.
func readIndex(files []string) (index, error) {
	var firstErr error
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			if firstErr == nil && !errors.Is(err, os.ErrNotExist) {
				firstErr = err
			}
			continue
		}
		return indexPEM(data), nil
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("none of %q exists", files)
	}
	return nil, firstErr
}

// indexPEM indexes the CERTIFICATE blocks without headers of data, the
// blocks x509.CertPool.AppendCertsFromPEM takes. A block whose subject
// cannot be found is left out; it would not parse as a certificate either.
func indexPEM(data []byte) index {
	idx := index{}
	for len(data) > 0 {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			continue
		}
		if subject, ok := subjectOf(block.Bytes); ok {
			idx[string(subject)] = append(idx[string(subject)], block.Bytes)
		}
	}
	return idx
}

// subjectOf returns the DER-encoded subject of a certificate (what
// x509.Certificate.RawSubject holds), reading the TBSCertificate's fields
// only up to it (RFC 5280, section 4.1): an optional [0] version, the
// serial number, the signature algorithm, the issuer, the validity, the
// subject.
func subjectOf(der []byte) ([]byte, bool) {
	var cert, tbs asn1.RawValue
	if _, err := asn1.Unmarshal(der, &cert); err != nil || cert.Tag != asn1.TagSequence {
		return nil, false
	}
	if _, err := asn1.Unmarshal(cert.Bytes, &tbs); err != nil || tbs.Tag != asn1.TagSequence {
		return nil, false
	}
	fields := tbs.Bytes
	next := func() (asn1.RawValue, bool) {
		var f asn1.RawValue
		rest, err := asn1.Unmarshal(fields, &f)
		fields = rest
		return f, err == nil
	}
	f, ok := next()
	if ok && f.Class == asn1.ClassContextSpecific && f.Tag == 0 {
		f, ok = next() // the version came first: this is the serial number
	}
	for range 4 { // the signature algorithm, the issuer, the validity, the subject
		if !ok {
			return nil, false
		}
		f, ok = next()
	}
	if !ok || f.Class != asn1.ClassUniversal || f.Tag != asn1.TagSequence {
		return nil, false
	}
	return f.FullBytes, true
}
