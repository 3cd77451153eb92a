package tlsroots

// bundleFiles is crypto/x509's certFiles for Linux (root_linux.go), in its
// order: Go reads the first of these it can read when SSL_CERT_FILE is not
// set. TestBundleFilesAreGos holds this list to the toolchain's.
var bundleFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian/Ubuntu/Gentoo etc.
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora/RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS/RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine Linux
}
