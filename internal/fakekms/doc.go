// Package fakekms is an AWS KMS stand-in for tests. It speaks KMS's real
// wire protocol (JSON 1.1 over HTTP, X-Amz-Target: TrentService.*), so the
// real SDK path runs against it: request signing, endpoint resolution,
// retries and error decoding. It implements Encrypt, Decrypt (with DryRun),
// ReEncrypt and GenerateDataKey for symmetric keys with KMS's rules
// (encryption context bound into the ciphertext, KeyId checked against the
// ciphertext's key, disabled and pending-deletion keys refused) and lets
// tests inject faults, delay or hold calls, and count them.
//
// Ciphertexts are deterministic for a given key ID, context and plaintext,
// and key material is derived from the key ID, so golden files can hold
// ciphertexts that any Server decrypts once the same key IDs are created.
package fakekms
