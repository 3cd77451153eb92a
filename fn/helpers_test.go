package fn_test

import (
	"testing"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
)

// Fixed key IDs: the fake derives key material from the ID, so ciphertexts
// are the same on every run.
const (
	keyApp   = "11111111-1111-1111-1111-111111111111" // alias/app
	keyOther = "22222222-2222-2222-2222-222222222222" // alias/other
)

// newFake starts a fake KMS holding keyApp and keyOther and points the AWS
// SDK at it, with test credentials and nothing from the machine.
func newFake(t *testing.T) *fakekms.Server {
	t.Helper()
	fake := fakekms.New(t)
	fake.CreateKey(keyApp, "alias/app")
	fake.CreateKey(keyOther, "alias/other")
	awstest.Isolate(t, fake.URL, fakekms.Region)
	return fake
}

// newGenerator returns a Generator with fast retries and opts' other settings.
func newGenerator(opts awskms.Options) *fn.Generator {
	opts.ClientOptions = append(opts.ClientOptions, awstest.FastRetries)
	return fn.NewGenerator(opts)
}
