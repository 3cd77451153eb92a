package awskms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kmsgen.dev/kmsgen/internal/fakekms"
)

// TestDeadline: a KMS that accepts calls and never answers holds a run no
// longer than the Client's deadline, however many calls wait and however
// long each call may take; the values still waiting get one error that
// counts them, and the values answered in time keep their plaintext.
func TestDeadline(t *testing.T) {
	fake, _ := setup(t)
	answered := map[string]bool{} // plaintexts KMS answers
	answers := map[string]bool{}  // their ciphertexts
	var reqs []Request
	for i := range 20 {
		plaintext := fmt.Sprintf("%s-%d", canary, i)
		blob := fake.Encrypt(keyA, nil, []byte(plaintext))
		if i < 3 {
			answered[plaintext], answers[string(blob)] = true, true
		}
		reqs = append(reqs, Request{Blob: blob})
	}
	fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
		if answers[string(c.Ciphertext)] {
			return nil
		}
		return &fakekms.Fault{Delay: time.Hour}
	})
	d := New(Options{Concurrency: 20, CallTimeout: time.Hour, Deadline: 500 * time.Millisecond}) // every call starts at once
	results := d.DecryptAll(context.Background(), reqs)
	late := 0
	for i, r := range results {
		if r.Err == nil {
			if !answered[string(r.Plaintext)] {
				t.Errorf("request %d decrypted to an unexpected value", i)
			}
			continue
		}
		late++
		var kerr *Error
		if !errors.As(r.Err, &kerr) || kerr.Code != CodeDeadline ||
			!strings.Contains(r.Err.Error(), "kmsgen's deadline for the whole run (500ms) passed with 17 of 20 distinct ciphertexts still waiting for KMS") {
			t.Errorf("request %d: %v", i, r.Err)
		}
	}
	if late != 17 {
		t.Errorf("%d requests failed, want the 17 KMS never answered", late)
	}
}

// TestCancelled: a cancelled run (SIGTERM) ends the calls in flight and
// those waiting, without the deadline's error.
func TestCancelled(t *testing.T) {
	fake, _ := setup(t)
	fake.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Delay: time.Hour} })
	d := New(Options{Concurrency: 1, CallTimeout: time.Hour, Deadline: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []Result)
	go func() {
		done <- d.DecryptAll(ctx, []Request{{Blob: fake.Encrypt(keyA, nil, []byte("a"))}, {Blob: fake.Encrypt(keyA, nil, []byte("b"))}})
	}()
	for fake.InFlight() == 0 { // wait on the state: a call in flight
		time.Sleep(time.Millisecond)
	}
	cancel()
	for i, r := range <-done {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "cancelled before KMS answered") {
			t.Errorf("request %d: %v", i, r.Err)
		}
	}
}
