// Package fn is the KMSSecretGenerator function: it reads generators,
// decrypts their ciphertexts with AWS KMS and builds the Secrets kustomize's
// secretGenerator would build from the same plaintext.
//
// Generator does the work for any number of generators at once (one batch of
// KMS calls); Processor is the KRM function kustomize runs, and Build is the
// standalone `kmsgen build`.
package fn
