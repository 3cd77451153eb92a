package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
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
//
// It answers a request it has answered before (the same operation and
// body: a Decrypt of the same ciphertext under the same key) from memory,
// so local-kms runs once per distinct request, in a warm-up run. Real KMS
// spends its CPU on other machines; local-kms's, on this one, would be
// charged to whatever the bench measures.
type proxy struct {
	URL   string
	tls   bool
	srv   *httptest.Server
	delay atomic.Int64 // nanoseconds
	conns atomic.Int64

	mu      sync.Mutex
	calls   map[string]int
	answers map[string]*httptest.ResponseRecorder // by operation and body; successes only
}

func startProxy(target string, ca *testCA) (*proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &proxy{calls: map[string]int{}, answers: map[string]*httptest.ResponseRecorder{}, tls: ca != nil}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		key := op + "\x00" + string(body)
		p.mu.Lock()
		p.calls[strings.TrimPrefix(op, "TrentService.")]++
		answer := p.answers[key]
		p.mu.Unlock()
		if d := time.Duration(p.delay.Load()); d > 0 {
			time.Sleep(d)
		}
		if answer == nil {
			answer = httptest.NewRecorder()
			r.Body = io.NopCloser(bytes.NewReader(body))
			rp.ServeHTTP(answer, r)
		}
		p.mu.Lock()
		if answer.Code == http.StatusOK {
			p.answers[key] = answer
		} else {
			p.calls[fmt.Sprintf("status %d", answer.Code)]++
		}
		p.mu.Unlock()
		maps.Copy(w.Header(), answer.Header())
		w.WriteHeader(answer.Code)
		w.Write(answer.Body.Bytes())
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
