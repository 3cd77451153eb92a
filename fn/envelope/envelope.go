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
)

// Armor lines and the one version this package reads and writes.
const (
	Begin   = "-----BEGIN KMSGEN ENVELOPE-----"
	End     = "-----END KMSGEN ENVELOPE-----"
	Version = 1
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

// Envelope is a parsed envelope.
type Envelope struct {
	// DataKey is the data key as KMS wrapped it: a KMS ciphertext.
	DataKey []byte
	Nonce   []byte
	Tag     []byte
	Body    []byte
}

// IsEnvelope reports whether text starts like an envelope.
func IsEnvelope(text []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(text), []byte(Begin))
}

// Seal encrypts plaintext with dataKey (32 bytes, in plaintext) bound to
// context, for the data key wrapped as wrapped.
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
	return &Envelope{DataKey: wrapped, Nonce: nonce, Tag: sealed[cut:], Body: sealed[:cut]}, nil
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

// aad is the GCM additional data: the format and version, and the
// encryption context in a canonical form (JSON with sorted keys).
func aad(context map[string]string) []byte {
	if context == nil {
		context = map[string]string{}
	}
	ctx, _ := json.Marshal(context) // sorted keys; a map of strings cannot fail
	return append([]byte("kmsgen envelope v"+strconv.Itoa(Version)+"\n"), ctx...)
}

// Marshal writes the envelope's text.
func (e *Envelope) Marshal() []byte {
	var b bytes.Buffer
	enc := base64.StdEncoding.EncodeToString
	fmt.Fprintf(&b, "%s\nVersion: %d\nData-Key: %s\nNonce: %s\nTag: %s\nCheck: %08x %08x %08x\n\n",
		Begin, Version, enc(e.DataKey), enc(e.Nonce), enc(e.Tag),
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

// headerFields are the fields of the header, each once, in any order.
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
	i := 0
	for ; i < len(lines) && lines[i] != ""; i++ {
		name, value, ok := strings.Cut(lines[i], ":")
		switch _, dup := fields[name]; {
		case !ok:
			return nil, fmt.Errorf("%w: header line %d is not \"Name: value\"", ErrHeader, i+2)
		case !slices.Contains(headerFields, name):
			return nil, fmt.Errorf("%w: header line %d is not one of the fields %s", ErrHeader, i+2, strings.Join(headerFields, ", "))
		case dup:
			return nil, fmt.Errorf("%w: header line %d repeats a field", ErrHeader, i+2)
		}
		fields[name] = strings.TrimSpace(value)
	}
	if fields["Version"] == "" {
		return nil, fmt.Errorf("%w: no Version field", ErrHeader)
	}
	if v, err := strconv.Atoi(fields["Version"]); err != nil || v != Version {
		return nil, fmt.Errorf("%w: this kmsgen reads version %d only: upgrade kmsgen if the envelope is newer", ErrVersion, Version)
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
	return decodeParts(fields, strings.Join(lines[i:], ""))
}

func decodeParts(fields map[string]string, body string) (*Envelope, error) {
	var checks [3]uint32
	if n, err := fmt.Sscanf(fields["Check"], "%08x %08x %08x", &checks[0], &checks[1], &checks[2]); err != nil || n != 3 {
		return nil, fmt.Errorf("%w: the Check field is not three CRC-32 values", ErrHeader)
	}
	dec := base64.StdEncoding.Strict().DecodeString // kmsgen writes canonical base64: anything else was edited
	e := &Envelope{}
	var err error
	if e.DataKey, err = dec(fields["Data-Key"]); err != nil || len(e.DataKey) < 32 {
		return nil, fmt.Errorf("%w: it is not the base64 of a KMS ciphertext", ErrDataKey)
	}
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
