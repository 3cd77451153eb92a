// Package api holds the KMSSecretGenerator resource (kmsgen.dev/v1alpha1):
// its Go types, strict decoding from YAML, its identity (IsGenerator, ID),
// and validation of everything that can be checked before any file is read
// or any KMS call is made (Validate, which also gives the parsed sources).
//
// It is a near-leaf package: it needs kyaml and kustomize's types, and of
// the AWS SDK only aws/arn, so tools can read generators without pulling in
// KMS.
package api
