// Package envelope is kmsgen's format for payloads over KMS's 4096-byte
// Encrypt limit: a data key from KMS GenerateDataKey (AES-256) encrypts the
// payload with AES-256-GCM, and only the data key, wrapped by KMS, is stored
// next to the ciphertext. The encryption context is bound twice: KMS binds
// it to the wrapped data key, and it is part of the GCM additional data.
//
// The text is armored, versioned and self-describing:
//
//	-----BEGIN KMSGEN ENVELOPE-----
//	Version: 1
//	Data-Key: <base64: the data key as KMS wrapped it>
//	Nonce: <base64: 12 bytes>
//	Tag: <base64: the 16-byte GCM tag>
//	Check: <CRC-32 of nonce, tag and body, hex>
//
//	<base64: the AES-256-GCM ciphertext, without the tag, 64 per line>
//	-----END KMSGEN ENVELOPE-----
//
// Version 2 is the same envelope with the data key wrapped under several
// KMS keys (for disaster recovery: keys in other regions or accounts), one
// Data-Key line per key, each the key's ARN and the data key as that key
// wrapped it, in the order they were added:
//
//	-----BEGIN KMSGEN ENVELOPE-----
//	Version: 2
//	Data-Key: arn:aws:kms:eu-west-1:111122223333:key/… <base64>
//	Data-Key: arn:aws:kms:us-east-1:444455556666:key/… <base64>
//	Nonce: …
//
// Any one of the keys opens the envelope. The ARN tells which key and which
// region each copy needs. Version 1 is written for an envelope with one
// data key whose key is not recorded, version 2 otherwise; both are read.
// The body is sealed the same way in both versions (the GCM additional
// data is the same), so keys can be added to or removed from an envelope
// without touching its nonce, tag or body. The key lines are not
// authenticated by GCM, and need not be: a copy of another data key fails
// GCM's authentication, a copy attributed to another key fails in KMS
// (the key is pinned when decrypting), and removing copies only takes
// away ways to open it.
//
// GCM's authentication is what protects the payload; the Check line only
// tells accidental damage to the nonce, the tag or the body apart, so that
// the error can say which part was altered. Leading and trailing whitespace
// on each line is ignored, so an envelope survives YAML block scalars.
package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Armor lines and the versions this package reads and writes: Version1
// for one data key whose key is not recorded, Version2 for data keys
// recorded with their key ARNs.
const (
	Begin    = "-----BEGIN KMSGEN ENVELOPE-----"
	End      = "-----END KMSGEN ENVELOPE-----"
	Version1 = 1
	Version2 = 2
	// MaxKeys is the most keys an envelope may wrap its data key under.
	MaxKeys = 16
)

const (
	nonceSize = 12
	tagSize   = 16
	keySize   = 32 // AES-256
	lineWidth = 64
)

// Errors, one per part, so a damaged envelope says what is damaged.
var (
	ErrHeader  = errors.New("envelope header is malformed")
	ErrVersion = errors.New("envelope version is not supported")
	ErrDataKey = errors.New("envelope data key is malformed")
	ErrNonce   = errors.New("envelope nonce was altered")
	ErrTag     = errors.New("envelope tag was altered")
	ErrBody    = errors.New("envelope body was altered")
	ErrAuth    = errors.New("envelope failed authentication")
)

// WrappedKey is the data key as one KMS key wrapped it.
type WrappedKey struct {
	// KeyARN is the key's ARN; empty in a version 1 envelope, which does
	// not record it.
	KeyARN string
	// Blob is the KMS ciphertext of the data key.
	Blob []byte
}

// Envelope is a parsed envelope.
type Envelope struct {
	// Keys are the data key as each KMS key wrapped it: one without a
	// KeyARN (version 1), or one or more with one (version 2).
	Keys  []WrappedKey
	Nonce []byte
	Tag   []byte
	Body  []byte
}

// Version is the version Marshal writes: Version1 for one key whose ARN is
// not recorded, else Version2.
func (e *Envelope) Version() int {
	if len(e.Keys) == 1 && e.Keys[0].KeyARN == "" {
		return Version1
	}
	return Version2
}

// KeyARNs returns the ARNs of the keys, in order ("" for a version 1
// envelope's one key).
func (e *Envelope) KeyARNs() []string {
	out := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		out[i] = k.KeyARN
	}
	return out
}

// WithKeys returns a copy of e with keys instead of its own: same nonce,
// tag and body.
func (e *Envelope) WithKeys(keys []WrappedKey) *Envelope {
	return &Envelope{Keys: slices.Clone(keys), Nonce: e.Nonce, Tag: e.Tag, Body: e.Body}
}

// IsEnvelope reports whether text starts like an envelope.
func IsEnvelope(text []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(text), []byte(Begin))
}

// Seal encrypts plaintext with dataKey (32 bytes, in plaintext) bound to
// context, for the data key wrapped as wrapped (its one key, not recorded:
// set Keys to record keys).
func Seal(wrapped, dataKey []byte, context map[string]string, plaintext []byte) (*Envelope, error) {
	aead, err := newGCM(dataKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("drawing a nonce: %w", err)
	}
	sealed := aead.Seal(nil, nonce, plaintext, aad(context))
	cut := len(sealed) - tagSize
	return &Envelope{Keys: []WrappedKey{{Blob: wrapped}}, Nonce: nonce, Tag: sealed[cut:], Body: sealed[:cut]}, nil
}

// Open decrypts the envelope with dataKey (in plaintext), checking that it
// was sealed with context.
func (e *Envelope) Open(dataKey []byte, context map[string]string) ([]byte, error) {
	aead, err := newGCM(dataKey)
	if err != nil {
		return nil, err
	}
	sealed := append(append([]byte(nil), e.Body...), e.Tag...)
	plaintext, err := aead.Open(nil, e.Nonce, sealed, aad(context))
	if err != nil {
		return nil, fmt.Errorf("%w: its nonce, tag and body are intact, so the data key or the encryption context differs from the ones it was sealed with, or it was altered on purpose", ErrAuth)
	}
	return plaintext, nil
}

func newGCM(dataKey []byte) (cipher.AEAD, error) {
	if len(dataKey) != keySize {
		return nil, fmt.Errorf("a data key must be %d bytes, got %d", keySize, len(dataKey))
	}
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// aad is the GCM additional data: the format and the version of the body's
// sealing, and the encryption context in a canonical form (JSON with
// sorted keys). It is the same for both header versions: the body's
// sealing did not change in version 2, only the key lines did.
func aad(context map[string]string) []byte {
	if context == nil {
		context = map[string]string{}
	}
	ctx, _ := json.Marshal(context) // sorted keys; a map of strings cannot fail
	return append([]byte("kmsgen envelope v1\n"), ctx...)
}

// Marshal writes the envelope's text, in the version Version says.
func (e *Envelope) Marshal() []byte {
	var b bytes.Buffer
	enc := base64.StdEncoding.EncodeToString
	v := e.Version()
	fmt.Fprintf(&b, "%s\nVersion: %d\n", Begin, v)
	for _, k := range e.Keys {
		if v == Version1 {
			fmt.Fprintf(&b, "Data-Key: %s\n", enc(k.Blob))
			continue
		}
		fmt.Fprintf(&b, "Data-Key: %s %s\n", k.KeyARN, enc(k.Blob))
	}
	fmt.Fprintf(&b, "Nonce: %s\nTag: %s\nCheck: %08x %08x %08x\n\n",
		enc(e.Nonce), enc(e.Tag),
		crc32.ChecksumIEEE(e.Nonce), crc32.ChecksumIEEE(e.Tag), crc32.ChecksumIEEE(e.Body))
	body := enc(e.Body)
	for len(body) > lineWidth {
		b.WriteString(body[:lineWidth] + "\n")
		body = body[lineWidth:]
	}
	if body != "" {
		b.WriteString(body + "\n")
	}
	b.WriteString(End + "\n")
	return b.Bytes()
}

// headerFields are the fields of the header, each once, in any order;
// but Data-Key, once per key in version 2.
var headerFields = []string{"Check", "Data-Key", "Nonce", "Tag", "Version"}

// Parse reads an envelope's text. Each error wraps one of the Err values
// and never quotes the input, not even a header's name or value: an
// envelope may have been pasted over a plaintext. It says which line is
// at fault instead.
func Parse(text []byte) (*Envelope, error) {
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	if len(lines) < 2 || lines[0] != Begin || lines[len(lines)-1] != End {
		return nil, fmt.Errorf("%w: it must start with %s and end with %s", ErrHeader, Begin, End)
	}
	lines = lines[1 : len(lines)-1]
	fields := map[string]string{}
	var dataKeys []string
	var dataKeyLines []int
	i := 0
	for ; i < len(lines) && lines[i] != ""; i++ {
		name, value, ok := strings.Cut(lines[i], ":")
		switch _, dup := fields[name]; {
		case !ok:
			return nil, fmt.Errorf("%w: header line %d is not \"Name: value\"", ErrHeader, i+2)
		case !slices.Contains(headerFields, name):
			return nil, fmt.Errorf("%w: header line %d is not one of the fields %s", ErrHeader, i+2, strings.Join(headerFields, ", "))
		case dup && name != "Data-Key":
			return nil, fmt.Errorf("%w: header line %d repeats a field", ErrHeader, i+2)
		}
		fields[name] = strings.TrimSpace(value)
		if name == "Data-Key" {
			dataKeys = append(dataKeys, fields[name])
			dataKeyLines = append(dataKeyLines, i+2)
		}
	}
	if fields["Version"] == "" {
		return nil, fmt.Errorf("%w: no Version field", ErrHeader)
	}
	v, err := strconv.Atoi(fields["Version"])
	if err != nil || (v != Version1 && v != Version2) {
		return nil, fmt.Errorf("%w: this kmsgen reads versions %d and %d only: upgrade kmsgen if the envelope is newer", ErrVersion, Version1, Version2)
	}
	if len(fields) != len(headerFields) {
		var missing []string
		for _, f := range headerFields {
			if _, ok := fields[f]; !ok {
				missing = append(missing, f)
			}
		}
		return nil, fmt.Errorf("%w: missing the fields %s", ErrHeader, strings.Join(missing, ", "))
	}
	switch {
	case v == Version1 && len(dataKeys) > 1:
		return nil, fmt.Errorf("%w: header line %d repeats a field (a version %d envelope has one Data-Key)", ErrHeader, dataKeyLines[1], Version1)
	case len(dataKeys) > MaxKeys:
		return nil, fmt.Errorf("%w: %d Data-Key lines, at most %d", ErrHeader, len(dataKeys), MaxKeys)
	}
	keys, err := decodeKeys(v, dataKeys, dataKeyLines)
	if err != nil {
		return nil, err
	}
	e, err := decodeParts(fields, strings.Join(lines[i:], ""))
	if err != nil {
		return nil, err
	}
	e.Keys = keys
	return e, nil
}

// decodeKeys decodes the Data-Key values: the base64 of a KMS ciphertext
// (version 1), or a key ARN, a space and that (version 2).
func decodeKeys(version int, values []string, lines []int) ([]WrappedKey, error) {
	dec := base64.StdEncoding.Strict().DecodeString // kmsgen writes canonical base64: anything else was edited
	keys := make([]WrappedKey, len(values))
	for j, value := range values {
		k := &keys[j]
		b64 := value
		if version == Version2 {
			name, rest, ok := strings.Cut(value, " ")
			if !ok || !IsKeyARN(name) {
				return nil, fmt.Errorf("%w: header line %d is not a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), a space and the base64 of a KMS ciphertext", ErrDataKey, lines[j])
			}
			if slices.ContainsFunc(keys[:j], func(o WrappedKey) bool { return o.KeyARN == name }) {
				return nil, fmt.Errorf("%w: header line %d repeats a key", ErrDataKey, lines[j])
			}
			k.KeyARN, b64 = name, strings.TrimSpace(rest)
		}
		var err error
		if k.Blob, err = dec(b64); err != nil || len(k.Blob) < 32 {
			return nil, fmt.Errorf("%w: header line %d is not the base64 of a KMS ciphertext", ErrDataKey, lines[j])
		}
	}
	return keys, nil
}

// IsKeyARN reports whether s is a KMS key ARN (not an alias ARN), with a
// region: what a version 2 envelope records for each key.
func IsKeyARN(s string) bool {
	a, err := arn.Parse(s)
	return err == nil && a.Service == "kms" && a.Region != "" && a.AccountID != "" &&
		strings.HasPrefix(a.Resource, "key/") && len(a.Resource) > len("key/") && !strings.ContainsAny(s, " \t")
}

// KeyRegion returns the region of a key ARN, else "".
func KeyRegion(keyARN string) string {
	if a, err := arn.Parse(keyARN); err == nil {
		return a.Region
	}
	return ""
}

func decodeParts(fields map[string]string, body string) (*Envelope, error) {
	var checks [3]uint32
	if n, err := fmt.Sscanf(fields["Check"], "%08x %08x %08x", &checks[0], &checks[1], &checks[2]); err != nil || n != 3 {
		return nil, fmt.Errorf("%w: the Check field is not three CRC-32 values", ErrHeader)
	}
	dec := base64.StdEncoding.Strict().DecodeString // kmsgen writes canonical base64: anything else was edited
	e := &Envelope{}
	var err error
	if e.Nonce, err = dec(fields["Nonce"]); err != nil || len(e.Nonce) != nonceSize || crc32.ChecksumIEEE(e.Nonce) != checks[0] {
		return nil, fmt.Errorf("%w: it does not match its checksum (or is not %d bytes of base64)", ErrNonce, nonceSize)
	}
	if e.Tag, err = dec(fields["Tag"]); err != nil || len(e.Tag) != tagSize || crc32.ChecksumIEEE(e.Tag) != checks[1] {
		return nil, fmt.Errorf("%w: it does not match its checksum (or is not %d bytes of base64)", ErrTag, tagSize)
	}
	if e.Body, err = dec(body); err != nil || crc32.ChecksumIEEE(e.Body) != checks[2] {
		return nil, fmt.Errorf("%w: it does not match its checksum (or is not base64): was it edited, or damaged in a merge?", ErrBody)
	}
	return e, nil
}
