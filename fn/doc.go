// Package fn is the KMSSecretGenerator function: it reads generators,
// decrypts their ciphertexts with AWS KMS and builds the Secrets kustomize's
// secretGenerator would build from the same plaintext.
//
// Generator does the work for any number of generators at once (one batch of
// KMS calls); Processor is the KRM function as kustomize and kpt run it
// (telling them apart by their input: kpt gives every item its path in the
// package), Standalone is `kmsgen build`, and Check is `kmsgen check`.
package fn
