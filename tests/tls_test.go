package tests

// TLS to KMS as users deploy it: a private CA in the system bundle file
// (SSL_CERT_FILE) or only in a certificate directory (SSL_CERT_DIR), a CA
// named in AWS_CA_BUNDLE (which replaces the system roots for AWS calls),
// and a TLS-intercepting proxy reached through HTTPS_PROXY that presents
// its own certificate for the real KMS host name. kmsgen verifies with
// internal/tlsroots where crypto/tls would use the system pool; each case
// must come out as crypto/tls's own verification would have it.

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testca"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

const tlsKey = "44444444-4444-4444-4444-444444444444"

// kmsHost is the name the SDK calls for KMS in the fake's region when no
// endpoint is set: what an intercepting proxy sees in CONNECT.
var kmsHost = "kms." + fakekms.Region + ".amazonaws.com"

func TestTLSTrust(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(tlsKey, "alias/tls"))
	ca := testca.Must(t, testca.Spec{Name: "private CA", CA: true}, nil)
	other := testca.Must(t, testca.Spec{Name: "another CA", CA: true}, nil)
	front := tlsFront(t, fake.URL, testca.Must(t, testca.Spec{Name: "localhost"}, &ca))
	mitmCA := testca.Must(t, testca.Spec{Name: "intercepting proxy CA", CA: true}, nil)
	mitm := newInterceptingProxy(t, fake.URL, mitmCA)

	dir := t.TempDir()
	system, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	check(t, err)
	testfiles.Write(t, dir, map[string]string{
		"bundle-with-ca.crt":     string(system) + string(ca.PEM()),
		"bundle-with-mitm.crt":   string(system) + string(mitmCA.PEM()),
		"ca.pem":                 string(ca.PEM()),
		"other.pem":              string(other.PEM()),
		"certdir/private-ca.pem": string(ca.PEM()),
		"generator.yaml": "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: app\n" +
			"literals: [TOKEN=" + base64.StdEncoding.EncodeToString(fake.Encrypt(tlsKey, nil, []byte(canary))) + "]\nkms: {keyId: alias/tls}\n",
	})
	at := func(name string) string { return filepath.Join(dir, name) }

	cases := []struct {
		name     string
		endpoint string // "" for AWS's own host name, through the intercepting proxy
		vars     []string
		ok       bool
	}{
		{"private CA in SSL_CERT_FILE, a full bundle", front, []string{"SSL_CERT_FILE=" + at("bundle-with-ca.crt")}, true},
		{"private CA only in SSL_CERT_DIR", front, []string{"SSL_CERT_DIR=" + at("certdir")}, true},
		{"private CA in AWS_CA_BUNDLE", front, []string{"AWS_CA_BUNDLE=" + at("ca.pem")}, true},
		{"AWS_CA_BUNDLE names another CA: it replaces the system roots", front, []string{"AWS_CA_BUNDLE=" + at("other.pem"), "SSL_CERT_FILE=" + at("bundle-with-ca.crt")}, false},
		{"private CA trusted nowhere", front, nil, false},
		{"intercepting proxy, its CA in SSL_CERT_FILE", "", []string{"SSL_CERT_FILE=" + at("bundle-with-mitm.crt")}, true},
		{"intercepting proxy, its CA in AWS_CA_BUNDLE", "", []string{"AWS_CA_BUNDLE=" + at("bundle-with-mitm.crt")}, true},
		{"intercepting proxy, its CA trusted nowhere", "", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			guard := newGuardProxy(t)
			env := without(baseEnv(), "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")
			env = append(env, awstest.Env(tc.endpoint)...)
			proxy := guard.URL
			if tc.endpoint == "" {
				env = without(env, "AWS_ENDPOINT_URL")
				proxy = mitm.URL
			}
			env = append(env, "HTTP_PROXY="+guard.URL, "HTTPS_PROXY="+proxy)
			env = append(env, tc.vars...)
			before := fake.Calls("Decrypt")

			res := run(t, dir, env, nil, kmsgenBin, "build", "generator.yaml")

			guard.assertUntouched(t)
			assertNoCanary(t, res.stderr)
			calls := fake.Calls("Decrypt") - before
			if !tc.ok {
				if res.code == 0 || calls != 0 {
					t.Fatalf("exit %d and %d Decrypt calls, want a refusal before any call:\n%s", res.code, calls, res.stdout)
				}
				for _, want := range []string{"does not trust", "certificate signed by unknown authority", "AWS_CA_BUNDLE"} {
					if !strings.Contains(res.stderr, want) {
						t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
					}
				}
				return
			}
			if res.code != 0 || calls != 1 || !strings.Contains(res.stdout, base64.StdEncoding.EncodeToString([]byte(canary))) {
				t.Fatalf("exit %d, %d Decrypt calls; stderr:\n%s", res.code, calls, res.stderr)
			}
			if tc.endpoint == "" {
				if got := mitm.take(); len(got) == 0 || got[0] != kmsHost+":443" {
					t.Errorf("the intercepting proxy saw CONNECT %q, want %s:443", got, kmsHost)
				}
			}
		})
	}
}

// tlsFront serves https at localhost with leaf and forwards every request
// to backend; it returns its URL.
func tlsFront(t *testing.T, backend string, leaf testca.Cert) string {
	t.Helper()
	target, err := url.Parse(backend)
	check(t, err)
	srv := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{testca.ServerCertificate(leaf)}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refusals' handshake errors
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	check(t, err)
	return "https://localhost:" + port
}

// interceptingProxy is an http proxy that answers CONNECT for kmsHost
// itself, as corporate TLS inspection does: it presents a certificate for
// the host signed by its own CA and sends the decrypted requests to the
// fake KMS. It never connects anywhere else, and refuses anything else.
type interceptingProxy struct {
	URL string

	mu       sync.Mutex
	connects []string
}

func newInterceptingProxy(t *testing.T, backend string, ca testca.Cert) *interceptingProxy {
	t.Helper()
	leaf := testca.Must(t, testca.Spec{Name: kmsHost, DNSNames: []string{kmsHost}}, &ca)
	target, err := url.Parse(backend)
	check(t, err)
	forward := httputil.NewSingleHostReverseProxy(target)
	p := &interceptingProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.connects = append(p.connects, r.Host)
		p.mu.Unlock()
		if r.Method != http.MethodConnect || r.Host != kmsHost+":443" {
			http.Error(w, "kmsgen tests: no request may leave the machine", http.StatusForbidden)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
		rw.Flush()
		tconn := tls.Server(&bufferedConn{conn, rw.Reader}, &tls.Config{Certificates: []tls.Certificate{testca.ServerCertificate(leaf)}})
		if tconn.Handshake() != nil {
			return
		}
		// one connection: serve its requests until the client closes it
		http.Serve(&oneConnListener{conn: tconn}, forward)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// take returns the CONNECT targets since the last take.
func (p *interceptingProxy) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	got := p.connects
	p.connects = nil
	return got
}

// bufferedConn reads what the proxy's reader already buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// oneConnListener hands out one connection, then reports itself closed
// once that connection is.
type oneConnListener struct {
	conn net.Conn
	once sync.Once
	done chan struct{}
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() {
		l.done = make(chan struct{})
		c = &closeNotifyConn{Conn: l.conn, done: l.done}
	})
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.conn.LocalAddr() }

type closeNotifyConn struct {
	net.Conn
	done chan struct{}
	once sync.Once
}

func (c *closeNotifyConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.Conn.Close()
}
