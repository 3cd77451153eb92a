package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// proxy stands in front of local-kms: it adds a latency to every call,
// counts calls (by KMS operation) and connections, and serves https with
// the test CA's certificate when it has one.
type proxy struct {
	URL   string
	tls   bool
	srv   *httptest.Server
	delay atomic.Int64 // nanoseconds
	conns atomic.Int64

	mu    sync.Mutex
	calls map[string]int
}

func startProxy(target string, ca *testCA) (*proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &proxy{calls: map[string]int{}, tls: ca != nil}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.calls[strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")]++
		p.mu.Unlock()
		if d := time.Duration(p.delay.Load()); d > 0 {
			time.Sleep(d)
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(rec, r)
		if rec.status != http.StatusOK {
			p.mu.Lock()
			p.calls[fmt.Sprintf("status %d", rec.status)]++
			p.mu.Unlock()
		}
	}))
	p.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.conns.Add(1)
		}
	}
	if ca != nil {
		p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.server}}
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	p.URL = p.srv.URL
	if ca != nil {
		// by name, as AWS endpoints are reached: localhost is a name the
		// test CA's certificate holds
		p.URL = strings.Replace(p.URL, "https://127.0.0.1:", "https://localhost:", 1)
	}
	return p, nil
}

func (p *proxy) close() { p.srv.Close() }

// setDelay sets the latency added to each call.
func (p *proxy) setDelay(d time.Duration) { p.delay.Store(int64(d)) }

// reset zeroes the counters and returns what they held.
func (p *proxy) reset() (calls map[string]int, conns int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls, p.calls = p.calls, map[string]int{}
	return calls, p.conns.Swap(0)
}

// statusRecorder keeps the status of a response, to count failures.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
