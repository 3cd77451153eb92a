// Package awskms is kmsgen's access to AWS KMS: Decrypt for batches of
// ciphertexts, and Encrypt, ReEncrypt and GenerateDataKey for the lifecycle
// commands.
//
// It loads the AWS configuration (the SDK's default chain: environment,
// shared config and profiles, IRSA web identity, EKS Pod Identity, SSO,
// instance metadata) only when there is a call to make, keeps one client per
// (region, endpoint, role), decrypts each distinct (ciphertext, key,
// context, client) once, runs at most Options.Concurrency calls at a time,
// bounds each call by Options.CallTimeout, retries with the SDK's standard
// retryer, and turns every failure into an *Error that says what failed and
// what to do about it. Plaintext is returned to the caller and appears in
// no error.
package awskms
