package ciphertext_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"

	"kmsgen.dev/kmsgen/fn/ciphertext"
)

// A ciphertext is accepted as base64 text (line breaks and all) or, from a
// file, as the raw blob; input that cannot be a KMS ciphertext is refused
// before any KMS call. The blob here is fake: parsing never calls KMS.
func ExampleParse() {
	blob := bytes.Repeat([]byte{0xA5, 0x5A, 0xC3, 0x3C}, 16) // 64 bytes
	text := base64.StdEncoding.EncodeToString(blob)
	wrapped := text[:40] + "\n" + text[40:] + "\n" // as a terminal may wrap it

	ct, err := ciphertext.Parse([]byte(wrapped), false)
	fmt.Println(ct.Form, len(ct.Blob), err)

	ct, err = ciphertext.Parse(blob, true)
	fmt.Println(ct.Form, len(ct.Blob), err)

	_, err = ciphertext.Parse([]byte("hunter2"), false)
	fmt.Println(errors.Is(err, ciphertext.ErrTooShort), err)

	_, err = ciphertext.Parse([]byte("DB_PASSWORD=hunter2\n"), true)
	fmt.Println(errors.Is(err, ciphertext.ErrPlainText))
	// Output:
	// text 64 <nil>
	// raw 64 <nil>
	// true too short to be a KMS ciphertext (5 bytes, KMS ciphertexts have at least 32): likely a plaintext pasted by mistake; it was not sent to KMS
	// true
}
