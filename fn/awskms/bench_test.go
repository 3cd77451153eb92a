package awskms

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
)

// BenchmarkDecryptAll decrypts a batch of 64 requests, 16 of them distinct,
// against the fake KMS answering each call after 2ms (a stand-in for the
// network round trip), with several concurrency bounds. Compare ns/op
// across sub-benchmarks: de-duplication makes 16 calls of 64, and the bound
// decides how many overlap.
func BenchmarkDecryptAll(b *testing.B) {
	fake := kmstest.Start(b, kmstest.NewKey(keyA))
	fake.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Delay: 2 * time.Millisecond} })
	var reqs []Request
	for i := range 64 {
		reqs = append(reqs, Request{Blob: fake.Encrypt(keyA, nil, fmt.Appendf(nil, "value-%d", i%16))})
	}
	for _, concurrency := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			d := New(Options{Concurrency: concurrency})
			d.DecryptAll(context.Background(), reqs[:1]) // load config and credentials outside the timing
			b.ResetTimer()
			for b.Loop() {
				for _, r := range d.DecryptAll(context.Background(), reqs) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
		})
	}
}
