// Package api holds the KMSSecretGenerator resource (kmsgen.dev/v1alpha1):
// its Go types, strict decoding from YAML, and validation of everything that
// can be checked before any file is read or any KMS call is made.
package api
