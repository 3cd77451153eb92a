package awskms

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// TestProgress: a batch tells its Progress how many distinct calls it
// makes, each call's end once (done counting up to the total), then its
// end; a single call is a batch of one; without a Progress nothing is
// called.
func TestProgress(t *testing.T) {
	fake, _ := setup(t)
	var reqs []Request
	for i := range 10 {
		blob := fake.Encrypt(keyA, nil, []byte(fmt.Sprintf("%s-%d", canary, i)))
		reqs = append(reqs, Request{Blob: blob}, Request{Blob: blob}) // each twice: 10 distinct
	}
	var mu sync.Mutex
	var events []string
	d := New(Options{Concurrency: 4})
	d.SetProgress(func(total int) (func(int), func()) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprintf("begin %d", total))
		return func(done int) {
				mu.Lock()
				defer mu.Unlock()
				events = append(events, fmt.Sprintf("done %d", done))
			}, func() {
				mu.Lock()
				defer mu.Unlock()
				events = append(events, "end")
			}
	})
	for _, r := range d.DecryptAll(context.Background(), reqs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	want := []string{"begin 10"}
	for i := 1; i <= 10; i++ {
		want = append(want, fmt.Sprintf("done %d", i))
	}
	want = append(want, "end")
	if !slices.Equal(events, want) {
		t.Errorf("events = %q, want %q", events, want)
	}

	events = nil
	if _, err := d.Decrypt(context.Background(), Target{}, reqs[0].Blob); err != nil {
		t.Fatal(err)
	}
	if want := []string{"begin 1", "done 1", "end"}; !slices.Equal(events, want) {
		t.Errorf("a single call: events = %q, want %q", events, want)
	}

	// CanDecryptAll calls CanDecrypt, itself followed when called alone:
	// inside the batch it is counted once, by the batch.
	events = nil
	for _, err := range d.CanDecryptAll(context.Background(), reqs[:4]) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"begin 2", "done 1", "done 2", "end"}; !slices.Equal(events, want) {
		t.Errorf("CanDecryptAll: events = %q, want %q", events, want)
	}

	events = nil
	d.SetProgress(nil)
	d.DecryptAll(context.Background(), reqs)
	if len(events) != 0 {
		t.Errorf("without a Progress: events = %q", events)
	}
}
