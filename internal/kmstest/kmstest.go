// Package kmstest starts a fake KMS (package fakekms) for a test and
// points the test's AWS SDK at it with test credentials and nothing from
// the machine; awstest.Env does the same for a child process such as
// kmsgen, kustomize or the aws CLI.
package kmstest

import (
	"testing"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
)

// Key is a key to create: its ID and aliases ("alias/name").
type Key struct {
	ID      string
	Aliases []string
}

// NewKey returns Key{id, aliases}.
func NewKey(id string, aliases ...string) Key {
	return Key{ID: id, Aliases: aliases}
}

// Start starts a fake KMS holding keys, points this test's AWS SDK at it
// (awstest.Isolate with fakekms.Region) and returns it; it stops when the
// test ends.
func Start(t testing.TB, keys ...Key) *fakekms.Server {
	t.Helper()
	srv := fakekms.New(t)
	awstest.Isolate(t, srv.URL, fakekms.Region)
	for _, k := range keys {
		srv.CreateKey(k.ID, k.Aliases...)
	}
	return srv
}
