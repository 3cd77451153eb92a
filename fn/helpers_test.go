package fn_test

import (
	"testing"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
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
	return kmstest.Start(t, kmstest.NewKey(keyApp, "alias/app"), kmstest.NewKey(keyOther, "alias/other"))
}

// newGenerator returns a Generator with fast retries and opts' other settings.
func newGenerator(opts awskms.Options) *fn.Generator {
	opts.ClientOptions = append(opts.ClientOptions, awstest.FastRetries)
	return &fn.Generator{KMS: awskms.New(opts)}
}
