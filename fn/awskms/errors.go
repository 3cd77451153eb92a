package awskms

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Codes kmsgen gives failures that are not KMS error codes.
const (
	CodeNoRegion      = "NoRegion"
	CodeConfig        = "ConfigError"
	CodeNoCredentials = "NoCredentials"
	CodeUnreachable   = "EndpointUnreachable"
	CodeUntrusted     = "UntrustedCertificate"
	CodeTimeout       = "Timeout"
	CodeKeyMismatch   = "KeyMismatch"
	CodeMalformed     = "MalformedResponse"
	CodeDeadline      = "Deadline"
	CodeOther         = "Other"
)

// Error is a failed decryption: what failed, where, and what to do next.
// It never contains plaintext.
type Error struct {
	// Code is the KMS error code (InvalidCiphertextException, …) or one of
	// kmsgen's Code* constants.
	Code string
	// What says what failed.
	What string
	// Hint says what to do about it.
	Hint string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return e.What
	}
	return e.What + "; " + e.Hint
}

func (e *Error) Unwrap() error { return e.Err }

// where describes the call for messages.
type where struct {
	Op       string // Decrypt, Encrypt, ReEncrypt, GenerateDataKey
	Region   string
	Endpoint string
	Target   Target
}

func (w where) key() string {
	if w.Target.KeyID != "" {
		return w.Target.KeyID
	}
	return "(the key named inside the ciphertext)"
}

func (w where) endpoint() string {
	if w.Endpoint != "" {
		return w.Endpoint
	}
	return "the KMS endpoint of region " + w.Region
}

func (w where) context() string { return ContextString(w.Target.Context) }

// classify turns an error from a Decrypt call into an *Error, by error code
// (never by HTTP status, which differs between KMS and its emulators).
func classify(err error, w where, timeout fmt.Stringer) *Error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return classifyAPI(apiErr, err, w)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Err: err,
			What: fmt.Sprintf("no answer from %s within %s", w.endpoint(), timeout),
			Hint: "check the network path to KMS, or raise KMSGEN_TIMEOUT"}
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeTimeout, Err: err, What: "cancelled before KMS answered"}
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return &Error{Code: CodeUntrusted, Err: err,
			What: fmt.Sprintf("the server at %s presented a certificate kmsgen does not trust: %v", w.endpoint(), certErr.Err),
			Hint: "if a TLS-intercepting proxy or a private endpoint uses a CA of its own, add that CA to the system's trust store (update-ca-certificates), to SSL_CERT_FILE or SSL_CERT_DIR, or name it in AWS_CA_BUNDLE (which then replaces the system roots for AWS calls); otherwise something between kmsgen and KMS is not what it claims to be"}
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return &Error{Code: CodeUnreachable, Err: err,
			What: fmt.Sprintf("could not reach %s: %v", w.endpoint(), errors.Unwrap(sendErr)),
			Hint: "check kms.endpoint, AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL, DNS, proxies and firewalls; a container function needs network access (kustomize: network: true, kpt: --network)"}
	}
	return &Error{Code: CodeOther, Err: err, What: fmt.Sprintf("calling KMS %s at %s failed: %v", w.Op, w.endpoint(), err)}
}

func classifyAPI(apiErr smithy.APIError, err error, w where) *Error {
	code := apiErr.ErrorCode()
	msg := apiErr.ErrorMessage()
	detail := code
	if msg != "" {
		detail = code + ": " + msg
	}
	e := &Error{Code: code, Err: err}
	switch code {
	case "InvalidCiphertextException":
		e.What = fmt.Sprintf("KMS could not decrypt it (%s)", detail)
		e.Hint = fmt.Sprintf("either the encryption context (kms.encryptionContext: %s) differs from the one it was encrypted with, or the ciphertext is corrupted, truncated or not from KMS Encrypt; check kms.encryptionContext, or re-encrypt with `aws kms encrypt --query CiphertextBlob --output text`", w.context())
	case "IncorrectKeyException":
		e.What = fmt.Sprintf("it was not encrypted under the pinned key kms.keyId %q (%s)", w.Target.KeyID, detail)
		e.Hint = "set kms.keyId to the key it was encrypted with, or re-encrypt it under the pinned key"
	case "AccessDeniedException":
		e.What = fmt.Sprintf("access denied: kms:%s on key %s in region %s (%s)", w.Op, w.key(), w.Region, detail)
		e.Hint = fmt.Sprintf("grant the identity running kmsgen kms:%s on that key (IAM policy and key policy; a kms:EncryptionContext condition must match kms.encryptionContext), and check that kms.keyId names the key the ciphertext was made with", w.Op)
	case "DisabledException":
		e.What = fmt.Sprintf("key %s in region %s is disabled (%s)", w.key(), w.Region, detail)
		e.Hint = "enable it (`aws kms enable-key --key-id KEY`) or re-encrypt under an enabled key"
	case "KMSInvalidStateException":
		e.What = fmt.Sprintf("key %s in region %s cannot be used in its current state (%s)", w.key(), w.Region, detail)
		e.Hint = "a key pending deletion can be saved with `aws kms cancel-key-deletion`; otherwise re-encrypt under a usable key"
	case "NotFoundException":
		e.What = fmt.Sprintf("key %s was not found in region %s (%s)", w.key(), w.Region, detail)
		e.Hint = "check kms.keyId and kms.region: keys and aliases live in one account and one region"
	case "InvalidKeyUsageException":
		e.What = fmt.Sprintf("key %s cannot be used to decrypt (%s)", w.key(), detail)
		e.Hint = "use a symmetric key with key usage ENCRYPT_DECRYPT"
	case "ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException":
		e.What = fmt.Sprintf("KMS kept throttling the calls and the retries ran out%s (%s)", attempts(err), detail)
		e.Hint = "lower KMSGEN_CONCURRENCY, raise AWS_MAX_ATTEMPTS, or ask AWS for a higher KMS request quota"
	case "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException", "ExpiredToken",
		"InvalidSignatureException", "IncompleteSignature", "MissingAuthenticationToken", "SignatureDoesNotMatch":
		e.What = fmt.Sprintf("KMS rejected the AWS credentials (%s)", detail)
		e.Hint = "refresh or fix them: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, `aws sso login`, or the pod's IRSA / Pod Identity role"
	case "KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException", "InternalFailure", "ServiceUnavailable":
		e.What = fmt.Sprintf("KMS is unavailable%s (%s)", attempts(err), detail)
		e.Hint = "try again later"
	default:
		e.What = fmt.Sprintf("KMS %s failed (%s)", w.Op, detail)
	}
	return e
}

// malformed is a successful answer that lacks what the operation must
// return: kmsgen fails closed rather than use it.
func malformed(w where, lacks string) *Error {
	return &Error{Code: CodeMalformed,
		What: fmt.Sprintf("%s answered %s with %s", w.endpoint(), w.Op, lacks),
		Hint: "KMS always returns it: check kms.endpoint, AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL and any proxy between kmsgen and KMS"}
}

func attempts(err error) string {
	var maxErr *retry.MaxAttemptsError
	if errors.As(err, &maxErr) {
		return fmt.Sprintf(" after %d attempts", maxErr.Attempt)
	}
	return ""
}
