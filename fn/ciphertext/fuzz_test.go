package ciphertext_test

import (
	"bytes"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/fn/ciphertext"
)

// FuzzParse: Parse never panics; what it accepts reads back the same from
// Bytes; no error quotes the input, not even an envelope header's name or
// value (a canary planted at any position never shows).
func FuzzParse(f *testing.F) {
	blob := bytes.Repeat([]byte{0x01, 0x02, 0x03, 0xfe}, 40)
	for _, seed := range []string{
		"", "hunter2", "DB_PASSWORD=hunter2\n", string(blob), "AQICAHh" + strings.Repeat("A", 200),
		"-----BEGIN KMSGEN ENVELOPE-----\n Version:0000000000000\n-----END KMSGEN ENVELOPE-----",
		"-----BEGIN KMSGEN ENVELOPE-----\nVersion: 1\nColor: blue\nData-Key: AAAA\nNonce: AAAA\nTag: AAAA\nCheck: 0 0 0\n\nAAAA\n-----END KMSGEN ENVELOPE-----\n",
		"-----BEGIN KMSGEN ENVELOPE-----\nVersion: 1\nVersion: 1\n-----END KMSGEN ENVELOPE-----\n",
	} {
		f.Add([]byte(seed), uint(0), true)
		f.Add([]byte(seed), uint(len(seed)/2), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, at uint, allowRaw bool) {
		const canary = "CANARY-hunter2"
		if bytes.Contains(data, []byte(canary)) {
			return
		}
		pos := int(at % uint(len(data)+1))
		planted := append(append(append([]byte(nil), data[:pos]...), canary...), data[pos:]...)
		for _, in := range [][]byte{data, planted} {
			ct, err := ciphertext.Parse(in, allowRaw)
			if err != nil {
				if strings.Contains(err.Error(), canary) {
					t.Fatalf("the error quotes the input: %v", err)
				}
				continue
			}
			back, err := ciphertext.Parse(ct.Bytes(), allowRaw || ct.Form == ciphertext.Raw)
			if err != nil || back.Form != ct.Form || !bytes.Equal(back.Blob, ct.Blob) {
				t.Fatalf("%v read back as %v, %v", ct.Form, back.Form, err)
			}
		}
	})
}
