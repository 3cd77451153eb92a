package fn

import (
	"context"

	"kmsgen.dev/kmsgen/fn/awskms"
)

// CheckMode is how far Check goes with each ciphertext.
type CheckMode int

const (
	// CheckDecrypt decrypts every ciphertext and builds every Secret.
	CheckDecrypt CheckMode = iota
	// CheckDryRun asks KMS whether Decrypt is allowed and decrypts nothing.
	CheckDryRun
	// CheckOffline reads and parses every ciphertext and calls no KMS
	// API: the generators, their paths, and that each source is a
	// ciphertext and not a plaintext. It needs no AWS access.
	CheckOffline
)

// Check finds what would make Generate fail on each input, without making
// any Secret, and returns one error per input, in order: nil when the input
// is fine, else Errors naming its file, generator and sources. The messages
// are Generate's, so they hold no plaintext.
//
// With CheckDecrypt each input goes through exactly Generate's path: its
// ciphertexts are read (confined to its Root) and parsed, decrypted, its
// envelopes opened, its env files parsed, its keys validated and its Secret
// built, then discarded with the plaintext. The inputs are independent: one
// input's failure does not keep the others from being decrypted and
// checked. All inputs share one batch of KMS calls, as in Generate.
//
// With CheckDryRun the ciphertexts are read and parsed as Generate does, and KMS
// is asked, with Decrypt DryRun, whether each distinct ciphertext (for an
// envelope, its data key) may be decrypted under its generator's kms
// settings. Nothing is decrypted, so what the ciphertexts hold (env files,
// keys) is not checked.
//
// With CheckOffline the ciphertexts are read and parsed as Generate does
// and nothing more: g.KMS is not used and may be nil.
func (g *Generator) Check(ctx context.Context, inputs []Input, mode CheckMode) []error {
	out := make([]error, len(inputs))
	var (
		jobs []job
		at   []int // the index in inputs of each job
		reqs []awskms.Request
	)
	for i, in := range inputs {
		js, rs, errs := g.load([]Input{in})
		if len(errs) > 0 {
			out[i] = errs // as in Generate: no KMS call for an input that cannot be read
			continue
		}
		j := js[0]
		j.first = len(reqs)
		jobs, at, reqs = append(jobs, j), append(at, i), append(reqs, rs...)
	}
	switch mode {
	case CheckOffline:
		return out
	case CheckDryRun:
		denied := g.KMS.CanDecryptAll(ctx, reqs)
		for k, j := range jobs {
			if es := j.kmsErrors(func(i int) error { return denied[i] }); len(es) > 0 {
				out[at[k]] = es
			}
		}
		return out
	}
	results := g.KMS.DecryptAll(ctx, reqs)
	defer func() {
		for _, r := range results {
			clear(r.Plaintext)
		}
	}()
	for k, j := range jobs {
		if es := j.kmsErrors(func(i int) error { return results[i].Err }); len(es) > 0 {
			out[at[k]] = es
			continue
		}
		if _, err := build(j, results[j.first:j.first+len(j.sources)]); err != nil {
			out[at[k]] = Errors{err}
		}
	}
	return out
}
