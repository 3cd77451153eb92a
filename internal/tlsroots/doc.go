// Package tlsroots verifies a TLS server's certificate chain against the
// system's trust roots as crypto/tls does, while parsing only the roots the
// chain can end at.
//
// # Why
//
// On Linux, the first TLS handshake of a Go process builds the system pool
// (crypto/x509's loadOnDiskRoots): it reads the first bundle file it can
// (SSL_CERT_FILE, or the first of a list of distributions' paths) and every
// file of the certificate directories (SSL_CERT_DIR, or /etc/ssl/certs and
// /etc/pki/tls/certs), and parses every certificate in them. On Debian and
// Ubuntu (Argo CD's image is Ubuntu) that is about 290 certificates from
// about 150 files, 16–29 ms measured on the first call to KMS of every
// kmsgen process: more than the rest of the process over plain http.
//
// # How
//
// A chain can end only at a root whose subject is the issuer of one of the
// certificates the server presents (RFC 5280 name chaining; crypto/x509
// looks roots up by exactly that name, or by the certificate's own subject
// for a root presented as itself). A Verifier indexes the bundle file Go
// reads by subject, reading each certificate's DER only as far as its
// subject, and parses just the roots those names select. A chain that does
// not verify against them is verified again with the full system pool, the
// one crypto/tls would use: a root that is only in a certificate directory
// still works, at the old cost.
//
// A chain is accepted only if it verifies, for the host name the client
// asked for, at the current time and for server authentication, up to a
// root that is in the system pool: the bundle file's roots are a subset of
// it. Install replaces crypto/tls's verification with this only where
// crypto/tls would use the system pool; custom roots (AWS_CA_BUNDLE, a
// profile's ca_bundle) keep crypto/tls's own verification.
package tlsroots
