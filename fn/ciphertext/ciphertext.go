// Package ciphertext recognises the forms in which kmsgen accepts a KMS
// ciphertext and turns them into the CiphertextBlob that KMS Decrypt takes.
//
// Text is whatever decodes cleanly as base64 (standard or URL-safe, padded
// or not) once all whitespace is removed: the output of
// `aws kms encrypt --query CiphertextBlob --output text`. Anything else read
// from a file is the raw binary blob (the seed workflow's ".raw" file).
// Telling the two apart never depends on the blob's header bytes, which
// differ between AWS and its emulators.
//
// A kmsgen envelope (package envelope, for payloads over KMS's 4096-byte
// limit) is recognised by its armor; its wrapped data key is what KMS
// decrypts (in a version 2 envelope, any one of its copies, each under
// its own key).
//
// Input that cannot be a KMS ciphertext is refused here, before any KMS call,
// so that a plaintext committed or pasted by mistake is never sent anywhere:
// empty input, blobs under 32 or over 6144 bytes, readable text that is not
// base64, and AWS Encryption SDK messages. Errors never quote the input.
package ciphertext

import (
	"encoding/base64"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/fn/limits"
)

// Size limits of a KMS CiphertextBlob. Real ciphertexts of a symmetric key
// are well over MinSize bytes even for a one-byte plaintext.
const (
	MinSize = 32
	MaxSize = 6144
)

// Sentinel errors, for callers and tests that need to tell them apart.
var (
	ErrEmpty      = errors.New("empty: there is no ciphertext")
	ErrNotBase64  = errors.New("not base64 text")
	ErrPlainText  = errors.New("readable text that is not base64, so not a KMS ciphertext")
	ErrTooShort   = errors.New("too short to be a KMS ciphertext")
	ErrTooLong    = errors.New("too long to be a KMS ciphertext")
	ErrEncryption = errors.New("an AWS Encryption SDK message, not a KMS ciphertext")
)

// encodings are tried in order; the first that decodes the text wins.
var encodings = []*base64.Encoding{
	base64.StdEncoding,
	base64.RawStdEncoding,
	base64.URLEncoding,
	base64.RawURLEncoding,
}

// Form is how a ciphertext is written, so that a rewritten one (kmsgen
// reencrypt) keeps the form it was found in.
type Form int

// Forms of a ciphertext.
const (
	// Text is base64 text, as `aws kms encrypt --output text` prints it.
	Text Form = iota
	// Raw is the binary CiphertextBlob itself (files only).
	Raw
	// Envelope is a kmsgen envelope (package envelope).
	Envelope
)

func (f Form) String() string {
	switch f {
	case Text:
		return "text"
	case Raw:
		return "raw"
	case Envelope:
		return "envelope"
	}
	return fmt.Sprintf("Form(%d)", int(f))
}

// Ciphertext is a parsed ciphertext: a KMS CiphertextBlob, or an envelope
// whose data key is one.
type Ciphertext struct {
	// Blob is what KMS decrypts: the ciphertext itself, or the envelope's
	// (first) wrapped data key.
	Blob []byte
	// Envelope, when set, holds the payload that the decrypted Blob opens.
	Envelope *envelope.Envelope
	// Form is the form it was read in.
	Form Form
}

// Bytes writes the ciphertext in its Form: Text as one line of standard
// base64 and a newline (exactly what the aws CLI prints), Raw as the blob,
// Envelope as the envelope's armored text (its Keys, not Blob, are
// written). A YAML string holds the text without the final newline.
func (c Ciphertext) Bytes() []byte {
	switch c.Form {
	case Raw:
		return append([]byte(nil), c.Blob...)
	case Envelope:
		return c.Envelope.Marshal()
	}
	return []byte(base64.StdEncoding.EncodeToString(c.Blob) + "\n")
}

// KeyARNs returns the key ARNs a version 2 envelope records, in order;
// nil for any other ciphertext (whose key is inside the KMS ciphertext).
func (c Ciphertext) KeyARNs() []string {
	if c.Envelope == nil || c.Envelope.Version() != envelope.Version2 {
		return nil
	}
	return c.Envelope.KeyARNs()
}

// Parse returns the ciphertext held in data. Raw binary is accepted only
// when allowRaw is set (it is for files; a YAML string holds text only).
func Parse(data []byte, allowRaw bool) (Ciphertext, error) {
	if len(data) > limits.Ciphertext {
		return Ciphertext{}, fmt.Errorf("%w: %d bytes, more than the %s of the largest ciphertext kmsgen reads", ErrTooLong, len(data), limits.MiB(limits.Ciphertext))
	}
	if envelope.IsEnvelope(data) {
		env, err := envelope.Parse(data)
		if err != nil {
			return Ciphertext{}, err
		}
		for i, k := range env.Keys {
			if _, err := check(k.Blob); err != nil {
				if len(env.Keys) > 1 {
					return Ciphertext{}, fmt.Errorf("envelope data key %d: %w", i+1, err)
				}
				return Ciphertext{}, fmt.Errorf("envelope data key: %w", err)
			}
		}
		return Ciphertext{Blob: env.Keys[0].Blob, Envelope: env, Form: Envelope}, nil
	}
	blob, form, err := parseBlob(data, allowRaw)
	if err != nil {
		return Ciphertext{}, err
	}
	return Ciphertext{Blob: blob, Form: form}, nil
}

func parseBlob(data []byte, allowRaw bool) ([]byte, Form, error) {
	compact := removeSpace(data)
	if len(compact) == 0 {
		return nil, Text, ErrEmpty
	}
	if blob, ok := decodeBase64(compact); ok {
		blob, err := check(blob)
		return blob, Text, err
	}
	switch {
	case !allowRaw:
		return nil, Text, fmt.Errorf("%w: give the text that `aws kms encrypt --query CiphertextBlob --output text` prints", ErrNotBase64)
	case isReadableText(data):
		return nil, Raw, fmt.Errorf("%w: was the plaintext committed instead of its ciphertext? It was not sent to KMS; encrypt it with `aws kms encrypt --query CiphertextBlob --output text`", ErrPlainText)
	}
	blob, err := check(data)
	return blob, Raw, err
}

func check(blob []byte) ([]byte, error) {
	switch {
	case len(blob) < MinSize:
		return nil, fmt.Errorf("%w (%d bytes, KMS ciphertexts have at least %d): likely a plaintext pasted by mistake; it was not sent to KMS", ErrTooShort, len(blob), MinSize)
	case len(blob) > MaxSize:
		return nil, fmt.Errorf("%w (%d bytes, at most %d)", ErrTooLong, len(blob), MaxSize)
	case isEncryptionSDKMessage(blob):
		return nil, fmt.Errorf("%w: kmsgen needs the output of `aws kms encrypt`, not of the aws-encryption-cli", ErrEncryption)
	}
	return blob, nil
}

func removeSpace(data []byte) []byte {
	out := make([]byte, 0, len(data))
	for _, b := range data {
		switch b {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			out = append(out, b)
		}
	}
	return out
}

func decodeBase64(text []byte) ([]byte, bool) {
	for _, enc := range encodings {
		blob := make([]byte, enc.DecodedLen(len(text)))
		if n, err := enc.Decode(blob, text); err == nil {
			return blob[:n], true
		}
	}
	return nil, false
}

// isReadableText reports whether data is UTF-8 made only of printable
// characters and whitespace, which a random-looking ciphertext never is.
func isReadableText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// isEncryptionSDKMessage recognises the header of an AWS Encryption SDK
// message: version 1 (0x01, type 0x80) or version 2 (0x02 and a committing
// algorithm suite, 0x0478 or 0x0578).
func isEncryptionSDKMessage(b []byte) bool {
	switch {
	case len(b) >= 2 && b[0] == 0x01 && b[1] == 0x80:
		return true
	case len(b) >= 3 && b[0] == 0x02 && (b[1] == 0x04 || b[1] == 0x05) && b[2] == 0x78:
		return true
	}
	return false
}
