// Package fn is the KMSSecretGenerator function: it reads generators,
// decrypts their ciphertexts with AWS KMS and builds the Secrets kustomize's
// secretGenerator would build from the same plaintext.
//
// NewInput is the one way a generator becomes an Input (decoded strictly,
// validated, its sources parsed), for every host and command. Generator
// does the work for any number of inputs at once (one batch of KMS calls);
// Processor is the KRM function as kustomize and kpt run it (telling them
// apart by what kustomize always sends: the generator as the functionConfig
// and as the only item, without a path; anything else gets kpt's plaintext
// guard), Standalone is `kmsgen build`, Check and CheckPaths are
// `kmsgen check`.
//
// # Go API
//
// The packages under fn/ are importable but are not a stable Go API: they
// change with kmsgen's needs, in any release, without notice. What kmsgen
// keeps stable is the resource (kmsgen.dev/v1alpha1, package api, which
// follows the resource's version), the command line, the function's
// behaviour under kustomize and kpt, and the ciphertext and envelope
// formats. Build on those.
package fn
